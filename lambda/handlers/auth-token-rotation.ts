/**
 * The Secrets Manager rotation function of a replication group's AUTH token.
 *
 * Secrets Manager calls it four times per rotation, with `Step` createSecret, setSecret, testSecret
 * and finishSecret, the secret's ARN and the new version's `ClientRequestToken` (Secrets Manager
 * user guide, "Rotation by Lambda function" and "Lambda rotation functions": each step must be
 * idempotent, as a step may be called again). ElastiCache lets a token change without breaking
 * clients in two calls (user guide, "Authenticating with the Valkey and Redis OSS AUTH command",
 * "Modifying the AUTH token on an existing cluster"; API reference, ModifyReplicationGroup
 * `AuthTokenUpdateStrategy`): ROTATE adds the new token, and the nodes accept both; SET then leaves
 * only the new one.
 *
 * - createSecret: a new 64-character alphanumeric token (GetRandomPassword) as version AWSPENDING.
 * - setSecret: ModifyReplicationGroup AuthToken=<pending>, ROTATE, ApplyImmediately; waits until the
 *   group is available again. Clients holding the current token keep working.
 * - testSecret: signs in to the group's endpoints with the pending token (AUTH, PING).
 * - finishSecret: moves AWSCURRENT to the new version (clients reading the secret now get a token
 *   the nodes accept, as they accept both), then ModifyReplicationGroup SET with the new token so
 *   the old one stops working, and waits until the group is available. Run again, it does the SET
 *   again only while the previous token still signs in.
 *
 * The Secrets Manager client is the one the Lambda runtime provides (@aws-sdk/client-secrets-manager,
 * part of the AWS SDK for JavaScript v3 in the Node.js runtimes; the bundle leaves @aws-sdk out);
 * tests give the steps a client of their own (`rotate(event, { secrets })`).
 */
import * as net from 'net';
import * as tls from 'tls';
import { ModifyReplicationGroupCommand, ReplicationGroup } from '@aws-sdk/client-elasticache';
import { describeGroup, elasticache } from './clients';
import { GROUP_ID_ENV, TOKEN_LENGTH } from '../../src/private/auth-token-rotation-contract';

/** The event Secrets Manager invokes a rotation function with. */
export interface RotationEvent {
  readonly Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

/** The part of Secrets Manager's API the steps use (the SDK v3 `SecretsManager` class has these methods). */
export interface SecretsApi {
  describeSecret(input: { SecretId: string }): Promise<{ RotationEnabled?: boolean; VersionIdsToStages?: Record<string, string[]> }>;
  getSecretValue(input: { SecretId: string; VersionId?: string; VersionStage?: string }): Promise<{ SecretString?: string; VersionId?: string }>;
  putSecretValue(input: { SecretId: string; ClientRequestToken: string; SecretString: string; VersionStages: string[] }): Promise<unknown>;
  getRandomPassword(input: { PasswordLength: number; ExcludePunctuation: boolean; IncludeSpace: boolean }): Promise<{ RandomPassword?: string }>;
  updateSecretVersionStage(input: {
    SecretId: string; VersionStage: string; MoveToVersionId: string; RemoveFromVersionId?: string;
  }): Promise<unknown>;
}

export interface RotationOptions {
  /** Secrets Manager. @default - the Lambda runtime's `SecretsManager` client */
  readonly secrets?: SecretsApi;
  /** The group whose token is rotated. @default - the `REPLICATION_GROUP_ID` environment variable */
  readonly replicationGroupId?: string;
  /** How long to wait between checks of the group's status. @default 10 seconds */
  readonly pollIntervalMs?: number;
  /** How long to wait for the group to be available. @default 12 minutes (a rotation function may run 15) */
  readonly waitMs?: number;
}

let runtimeSecrets: SecretsApi | undefined;
function secretsManager(): SecretsApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  runtimeSecrets ??= new (require('@aws-sdk/client-secrets-manager').SecretsManager)({}) as SecretsApi;
  return runtimeSecrets;
}

class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthTokenRotationError';
  }
}

/** The Lambda entry point (`index.handler` of its own bundle, assets/rotation). */
export async function handler(event: RotationEvent): Promise<void> {
  return rotate(event);
}

/** One step of a rotation, as Secrets Manager asks for it. */
export async function rotate(event: RotationEvent, options: RotationOptions = {}): Promise<void> {
  const secrets = options.secrets ?? secretsManager();
  const groupId = options.replicationGroupId ?? process.env[GROUP_ID_ENV];
  if (!groupId) throw new RotationError(`the rotation function has no ${GROUP_ID_ENV}`);
  const { SecretId: secretId, ClientRequestToken: token, Step: step } = event;

  // The checks of Secrets Manager's rotation function templates: rotation on, the version known and
  // staged for rotation.
  const secret = await secrets.describeSecret({ SecretId: secretId });
  if (!secret.RotationEnabled) throw new RotationError(`secret ${secretId} is not enabled for rotation`);
  const stages = secret.VersionIdsToStages ?? {};
  if (!stages[token]) throw new RotationError(`secret version ${token} has no stage for rotation of secret ${secretId}`);
  if (stages[token].includes('AWSCURRENT') && step !== 'finishSecret') return;
  if (!stages[token].includes('AWSPENDING') && !stages[token].includes('AWSCURRENT')) {
    throw new RotationError(`secret version ${token} is not set as AWSPENDING for rotation of secret ${secretId}`);
  }
  const ctx: Context = { secrets, secretId, token, groupId, pollMs: options.pollIntervalMs ?? 10_000, waitMs: options.waitMs ?? 12 * 60_000 };
  switch (step) {
    case 'createSecret': return createSecret(ctx);
    case 'setSecret': return setSecret(ctx);
    case 'testSecret': return testSecret(ctx);
    case 'finishSecret': return finishSecret(ctx, stages);
    default: throw new RotationError(`unknown rotation step ${String(step)}`);
  }
}

interface Context {
  readonly secrets: SecretsApi;
  readonly secretId: string;
  readonly token: string;
  readonly groupId: string;
  readonly pollMs: number;
  readonly waitMs: number;
}

const isNotFound = (e: unknown) => (e as { name?: string }).name === 'ResourceNotFoundException';

async function createSecret(ctx: Context): Promise<void> {
  // The current version must exist; a pending one made by an earlier call is kept.
  await ctx.secrets.getSecretValue({ SecretId: ctx.secretId, VersionStage: 'AWSCURRENT' });
  try {
    await ctx.secrets.getSecretValue({ SecretId: ctx.secretId, VersionId: ctx.token, VersionStage: 'AWSPENDING' });
    return;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  // ElastiCache accepts 16 to 128 printable characters with only !&#$^<>- as punctuation; an
  // alphanumeric token needs no escaping anywhere.
  const { RandomPassword } = await ctx.secrets.getRandomPassword({ PasswordLength: TOKEN_LENGTH, ExcludePunctuation: true, IncludeSpace: false });
  await ctx.secrets.putSecretValue({ SecretId: ctx.secretId, ClientRequestToken: ctx.token, SecretString: RandomPassword!, VersionStages: ['AWSPENDING'] });
}

async function pendingToken(ctx: Context): Promise<string> {
  return (await ctx.secrets.getSecretValue({ SecretId: ctx.secretId, VersionId: ctx.token, VersionStage: 'AWSPENDING' })).SecretString!;
}

async function setSecret(ctx: Context): Promise<void> {
  const pending = await pendingToken(ctx);
  const group = await availableGroup(ctx);
  // Called again after a ROTATE that went through: the nodes already accept the pending token.
  if (await signsIn(group, pending)) return;
  await elasticache().send(new ModifyReplicationGroupCommand({
    ReplicationGroupId: ctx.groupId, AuthToken: pending, AuthTokenUpdateStrategy: 'ROTATE', ApplyImmediately: true,
  }));
  await availableGroup(ctx);
}

async function testSecret(ctx: Context): Promise<void> {
  const pending = await pendingToken(ctx);
  const group = await availableGroup(ctx);
  for (const endpoint of endpoints(group)) {
    const answer = await authPing(endpoint, pending, group.TransitEncryptionEnabled === true);
    if (answer !== 'PONG') {
      throw new RotationError(`the pending AUTH token of secret ${ctx.secretId} does not sign in to ${endpoint.host}:${endpoint.port} of replication group ${ctx.groupId}: ${answer}`);
    }
  }
}

async function finishSecret(ctx: Context, stages: Record<string, string[]>): Promise<void> {
  const current = Object.keys(stages).find((v) => stages[v].includes('AWSCURRENT'));
  if (current !== ctx.token) {
    await ctx.secrets.updateSecretVersionStage({ SecretId: ctx.secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: ctx.token, RemoveFromVersionId: current });
  }
  const token = (await ctx.secrets.getSecretValue({ SecretId: ctx.secretId, VersionId: ctx.token })).SecretString!;
  const previousVersion = current !== ctx.token ? current : Object.keys(stages).find((v) => stages[v].includes('AWSPREVIOUS'));
  const previous = previousVersion
    ? (await ctx.secrets.getSecretValue({ SecretId: ctx.secretId, VersionId: previousVersion })).SecretString
    : undefined;
  const group = await availableGroup(ctx);
  // SET only while the old token still signs in: a second SET with no ROTATE before it would be refused.
  if (previous === undefined || previous === token || !(await signsIn(group, previous))) return;
  await elasticache().send(new ModifyReplicationGroupCommand({
    ReplicationGroupId: ctx.groupId, AuthToken: token, AuthTokenUpdateStrategy: 'SET', ApplyImmediately: true,
  }));
  await availableGroup(ctx);
}

/** The group once it is `available` (a token change makes it `modifying` for a while). */
async function availableGroup(ctx: Context): Promise<ReplicationGroup> {
  const deadline = Date.now() + ctx.waitMs;
  for (;;) {
    const group = await describeGroup(ctx.groupId);
    if (!group) throw new RotationError(`replication group ${ctx.groupId} does not exist`);
    if (group.Status === 'available') return group;
    if (!['modifying', 'snapshotting'].includes(group.Status ?? '') || Date.now() + ctx.pollMs > deadline) {
      throw new RotationError(`replication group ${ctx.groupId} is ${group.Status}, not available; the rotation stops here and can be retried`);
    }
    await new Promise((r) => setTimeout(r, ctx.pollMs));
  }
}

interface Endpoint { readonly host: string; readonly port: number }

/** Where clients connect: the configuration endpoint (cluster mode enabled) or every node's endpoint. */
function endpoints(group: ReplicationGroup): Endpoint[] {
  if (group.ConfigurationEndpoint?.Address) return [{ host: group.ConfigurationEndpoint.Address, port: group.ConfigurationEndpoint.Port! }];
  const nodes = (group.NodeGroups ?? []).flatMap((g) => g.NodeGroupMembers ?? []).map((m) => m.ReadEndpoint)
    .filter((e): e is { Address: string; Port: number } => !!e?.Address);
  const primary = group.NodeGroups?.[0]?.PrimaryEndpoint;
  const all = nodes.length > 0 ? nodes : primary?.Address ? [primary] : [];
  return all.map((e) => ({ host: e.Address!, port: e.Port! }));
}

async function signsIn(group: ReplicationGroup, token: string): Promise<boolean> {
  const [first] = endpoints(group);
  return first !== undefined && await authPing(first, token, group.TransitEncryptionEnabled === true) === 'PONG';
}

/**
 * Sends AUTH <token> and PING on a new connection and returns the answer to PING (`PONG`) or the
 * first error. TLS, with the node's certificate verified, when the group has encryption in transit.
 */
export async function authPing(endpoint: Endpoint, token: string, transitEncryption: boolean, timeoutMs = 5_000): Promise<string> {
  const useTls = transitEncryption;
  return new Promise((resolve, reject) => {
    const socket: net.Socket = useTls
      // SNI is for names only (RFC 6066); an address is verified against the certificate's IP SANs.
      ? tls.connect({ host: endpoint.host, port: endpoint.port, ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}) })
      : net.connect({ host: endpoint.host, port: endpoint.port });
    let buffer = '';
    const done = (e: Error | undefined, answer?: string) => {
      socket.destroy();
      clearTimeout(timer);
      if (e) reject(e); else resolve(answer!);
    };
    const timer = setTimeout(() => done(new RotationError(`no answer from ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      const command = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
      socket.write(command('AUTH', token) + command('PING'));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      const lines = buffer.split('\r\n');
      if (lines.length < 2) return;
      // AUTH's answer first: an error (-WRONGPASS ...) ends it there.
      if (lines[0].startsWith('-')) return done(undefined, lines[0].slice(1));
      if (lines.length >= 3) return done(undefined, lines[1].replace(/^[+-]/, ''));
    });
    socket.once('error', (e) => done(e));
  });
}
