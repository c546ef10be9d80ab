/**
 * AUTH on the local provider's nodes, and the AUTH token rotation function (lambda/handlers/
 * auth-token-rotation.ts) against it.
 *
 * The provider has no Secrets Manager API, so Secrets Manager is played by `FakeSecretsManager`
 * below: it keeps versions and staging labels and calls the function's four steps as Secrets
 * Manager's RotateSecret does (the new version labelled AWSPENDING first, AWSPREVIOUS given to the
 * version AWSCURRENT leaves, AWSPENDING removed once finishSecret succeeded). ElastiCache and the
 * nodes are the provider's, with real redis-server processes enforcing the tokens.
 */
import { randomUUID } from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import {
  CreateReplicationGroupCommand, DescribeReplicationGroupsCommand, ElastiCacheClient, ModifyReplicationGroupCommand,
  ModifyReplicationGroupCommandInput, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import Redis from 'ioredis';
import { createGroup } from './groups';
import { handlerEnvironment } from './handler-env';
import { authPing, rotate, RotationEvent, SecretsApi } from '../../lambda/handlers/auth-token-rotation';
import { groupAvailable } from '../../local/waiters';

jest.setTimeout(180_000);

const REGION = 'eu-west-1';
let ec: ElastiCacheClient;

const local = handlerEnvironment(REGION);

beforeAll(() => {
  ({ ec } = local);
});

const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { name: 'ResourceNotFoundException' });

/** Secrets Manager for one secret: versions, staging labels, and RotateSecret calling the function. */
class FakeSecretsManager implements SecretsApi {
  public readonly values = new Map<string, string | undefined>();
  public readonly stages = new Map<string, string[]>();
  public readonly calls: string[] = [];

  constructor(public readonly secretId: string, initial: string) {
    const v = randomUUID();
    this.values.set(v, initial);
    this.stages.set(v, ['AWSCURRENT']);
  }

  private versionWith(stage: string): string | undefined {
    return [...this.stages].find(([, s]) => s.includes(stage))?.[0];
  }

  /** The value of the version labelled `stage`. */
  public value(stage: string): string {
    return this.values.get(this.versionWith(stage)!)!;
  }

  async describeSecret() {
    return { RotationEnabled: true, VersionIdsToStages: Object.fromEntries([...this.stages].map(([v, s]) => [v, [...s]])) };
  }

  async getSecretValue(input: { SecretId: string; VersionId?: string; VersionStage?: string }) {
    const version = input.VersionId ?? this.versionWith(input.VersionStage ?? 'AWSCURRENT');
    const value = version !== undefined ? this.values.get(version) : undefined;
    if (version === undefined || value === undefined || (input.VersionStage && !this.stages.get(version)?.includes(input.VersionStage))) {
      throw notFound(`version ${input.VersionId ?? ''} ${input.VersionStage ?? ''}`);
    }
    return { SecretString: value, VersionId: version };
  }

  async putSecretValue(input: { ClientRequestToken: string; SecretString: string; VersionStages: string[] }) {
    this.values.set(input.ClientRequestToken, input.SecretString);
    for (const stage of input.VersionStages) this.label(stage, input.ClientRequestToken);
    return {};
  }

  async getRandomPassword(input: { PasswordLength: number; ExcludePunctuation: boolean; IncludeSpace: boolean }) {
    this.calls.push(`getRandomPassword ${JSON.stringify(input)}`);
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    return { RandomPassword: Array.from({ length: input.PasswordLength }, () => chars[Math.floor(Math.random() * chars.length)]).join('') };
  }

  async updateSecretVersionStage(input: { VersionStage: string; MoveToVersionId: string; RemoveFromVersionId?: string }) {
    const from = this.versionWith(input.VersionStage);
    if (from !== input.RemoveFromVersionId) throw new Error(`${input.VersionStage} is on ${from}, not ${input.RemoveFromVersionId}`);
    this.label(input.VersionStage, input.MoveToVersionId);
    if (input.VersionStage === 'AWSCURRENT' && from) this.label('AWSPREVIOUS', from);
    return {};
  }

  private label(stage: string, version: string): void {
    for (const [, s] of this.stages) if (s.includes(stage)) s.splice(s.indexOf(stage), 1);
    this.stages.set(version, [...(this.stages.get(version) ?? []), stage]);
  }

  /** RotateSecret: a new version labelled AWSPENDING, then the four steps; `between` runs after each. */
  public async rotateSecret(groupId: string, between: (step: string) => Promise<void> = async () => undefined): Promise<void> {
    const token = randomUUID();
    this.stages.set(token, ['AWSPENDING']);
    for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      const event: RotationEvent = { Step, SecretId: this.secretId, ClientRequestToken: token };
      this.calls.push(Step);
      await rotate(event, { secrets: this, replicationGroupId: groupId, pollIntervalMs: 20, waitMs: 60_000 });
      await between(Step);
    }
    const s = this.stages.get(token)!;
    s.splice(s.indexOf('AWSPENDING'), 1);
  }
}

const INITIAL = 'Initial-token-0123456789abcdef';

async function createAuthGroup(id: string, token = INITIAL): Promise<ReplicationGroup> {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id,
    ReplicationGroupDescription: id,
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
    TransitEncryptionEnabled: true,
    AuthToken: token,
  }));
  return groupAvailable(ec, id);
}

/** Every node's endpoint. */
function nodes(group: ReplicationGroup): Array<{ host: string; port: number }> {
  return group.NodeGroups![0].NodeGroupMembers!.map((m) => ({ host: m.ReadEndpoint!.Address!, port: m.ReadEndpoint!.Port! }));
}

/** What each node answers to PING after AUTH with `token` (undefined: no AUTH at all). */
async function answers(group: ReplicationGroup, token: string | undefined): Promise<string[]> {
  // With encryption in transit the nodes speak TLS only, verified against the CAs Node trusts.
  const encrypted = group.TransitEncryptionEnabled === true;
  return Promise.all(nodes(group).map(async (n) => {
    if (token !== undefined) return authPing(n, token, encrypted);
    // PING alone, with no AUTH before it.
    return new Promise<string>((resolve, reject) => {
      const socket = encrypted ? tls.connect(n, () => socket.write('PING\r\n')) : net.connect(n, () => socket.write('PING\r\n'));
      socket.once('data', (d) => { socket.destroy(); resolve(d.toString().trim().replace(/^[+-]/, '').split(' ')[0]); });
      socket.once('error', reject);
    });
  }));
}

describe('AUTH on the nodes', () => {
  test('a group created with an AuthToken refuses commands without it and with a wrong one, on every node', async () => {
    const group = await createAuthGroup('auth-enforced');
    expect(group.AuthTokenEnabled).toBe(true);
    expect(await answers(group, undefined)).toEqual(['NOAUTH', 'NOAUTH']);
    expect(await answers(group, 'Wrong-token-0123456789abcdef')).toEqual([
      'WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS invalid username-password pair or user is disabled.',
    ]);
    expect(await answers(group, INITIAL)).toEqual(['PONG', 'PONG']);
  });

  test('a group created without an AuthToken takes commands without AUTH, as before', async () => {
    const group = await createGroup(ec, 'auth-none');
    expect(group.AuthTokenEnabled).toBe(false);
    expect(await answers(group, undefined)).toEqual(['PONG', 'PONG']);
  });

  test('ROTATE: old and new token both sign in, on every node and on a replica synced meanwhile; SET: only the new one', async () => {
    const id = 'auth-rotate-set';
    let group = await createAuthGroup(id);
    const next = 'Next-token-0123456789abcdefgh';
    const modify = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: id, AuthToken: next, AuthTokenUpdateStrategy: 'ROTATE', ApplyImmediately: true }));
    expect(modify.ReplicationGroup?.Status).toBe('modifying');
    expect(modify.ReplicationGroup?.PendingModifiedValues?.AuthTokenStatus).toBe('ROTATING');
    group = await groupAvailable(ec, id, 30_000, 20);
    expect(group.PendingModifiedValues?.AuthTokenStatus).toBeUndefined();
    expect(await answers(group, INITIAL)).toEqual(['PONG', 'PONG']);
    expect(await answers(group, next)).toEqual(['PONG', 'PONG']);
    await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: id, AuthToken: next, AuthTokenUpdateStrategy: 'SET', ApplyImmediately: true }));
    group = await groupAvailable(ec, id, 30_000, 20);
    expect(await answers(group, INITIAL)).toEqual([
      'WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS invalid username-password pair or user is disabled.',
    ]);
    expect(await answers(group, next)).toEqual(['PONG', 'PONG']);
    // Replication still works: the replica follows the primary whatever the clients' tokens are.
    const primary = new Redis({ ...nodes(group)[0], password: next, tls: {} });
    const replica = new Redis({ ...nodes(group)[1], password: next, tls: {} });
    try {
      await primary.set('after-set', 'yes');
      for (let i = 0; i < 100 && await replica.get('after-set') !== 'yes'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await replica.get('after-set')).toBe('yes');
    } finally {
      primary.disconnect();
      replica.disconnect();
    }
  });

  const refusals: Array<[string, Partial<ModifyReplicationGroupCommandInput>, string]> = [
    ['SET before any ROTATE', { AuthToken: 'Next-token-0123456789abcdefgh', AuthTokenUpdateStrategy: 'SET', ApplyImmediately: true },
      'InvalidParameterCombinationException: AuthTokenUpdateStrategy SET is allowed only after ROTATE.'],
    ['a strategy without a token', { AuthTokenUpdateStrategy: 'ROTATE', ApplyImmediately: true },
      'InvalidParameterCombinationException: AuthTokenUpdateStrategy ROTATE must be specified with AuthToken.'],
    ['an unknown strategy', { AuthToken: 'Next-token-0123456789abcdefgh', AuthTokenUpdateStrategy: 'SWAP' as any, ApplyImmediately: true },
      'InvalidParameterValueException: Invalid AuthTokenUpdateStrategy SWAP; valid values are SET, ROTATE and DELETE.'],
    ['a token too short', { AuthToken: 'short', ApplyImmediately: true },
      'InvalidParameterValueException: Invalid AuthToken provided: it must be 16 to 128 alphanumeric characters or symbols (excluding @, ", and /).'],
    ['a token with a character ElastiCache refuses', { AuthToken: 'Next-token-0123456789/abcdefgh', ApplyImmediately: true },
      'InvalidParameterValueException: Invalid AuthToken provided: it must be 16 to 128 alphanumeric characters or symbols (excluding @, ", and /).'],
    ['DELETE (the move to RBAC)', { AuthTokenUpdateStrategy: 'DELETE', ApplyImmediately: true },
      'NotImplemented: The local provider does not emulate AuthTokenUpdateStrategy DELETE (moving a group from AUTH to RBAC user groups).'],
    ['a change left for the maintenance window', { AuthToken: 'Next-token-0123456789abcdefgh' },
      'NotImplemented: The local provider applies AUTH token changes only with ApplyImmediately.'],
  ];

  test.each(refusals)('ModifyReplicationGroup refuses %s', async (_name, input, expected) => {
    await createAuthGroup('auth-refusals').catch(() => undefined);
    const error = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'auth-refusals', ...input })).then(() => undefined, (e) => e);
    expect(`${error?.name}: ${error?.message}`).toBe(expected);
    const group = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'auth-refusals' }))).ReplicationGroups![0];
    expect(group.Status).toBe('available');
    expect(await answers(group, INITIAL)).toEqual(['PONG', 'PONG']);
  });

  test('ModifyReplicationGroup refuses an AuthToken for a group without encryption in transit', async () => {
    await createGroup(ec, 'auth-no-tls');
    const error = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'auth-no-tls', AuthToken: 'Next-token-0123456789abcdefgh', ApplyImmediately: true }))
      .then(() => undefined, (e) => e);
    expect(`${error?.name}: ${error?.message}`).toBe('InvalidParameterCombinationException: AuthToken can only be set when TransitEncryptionEnabled is true.');
  });
});

describe('the rotation function', () => {
  test('rotates twice while a client reads and writes throughout, never failing AUTH', async () => {
    const id = 'auth-rotation';
    const sm = new FakeSecretsManager(`arn:aws:secretsmanager:${REGION}:000000000000:secret:token-AbCdEf`, INITIAL);
    let group = await createAuthGroup(id, sm.value('AWSCURRENT'));
    const [primary] = nodes(group);

    // A long-lived client signed in with the token it read at start, and clients that connect
    // anew each time with the token AWSCURRENT holds at that moment, as applications do.
    const failures: string[] = [];
    let operations = 0;
    let fresh = 0;
    let running = true;
    const pooled = new Redis({ ...primary, password: sm.value('AWSCURRENT'), tls: {}, maxRetriesPerRequest: 0 });
    const pooledLoop = (async () => {
      for (let i = 0; running; i++) {
        try {
          await pooled.set(`k${i % 100}`, String(i));
          if (await pooled.get(`k${i % 100}`) !== String(i)) failures.push(`pooled read of k${i % 100}`);
          operations++;
        } catch (e) {
          failures.push(`pooled: ${(e as Error).message}`);
        }
      }
    })();
    const freshLoop = (async () => {
      while (running) {
        const token = sm.value('AWSCURRENT');
        const client = new Redis({ ...primary, password: token, tls: {}, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        try {
          await client.connect();
          await client.set('fresh', String(fresh));
          if (await client.get('fresh') !== String(fresh)) failures.push('fresh read');
          fresh++;
        } catch (e) {
          failures.push(`fresh: ${(e as Error).message}`);
        } finally {
          client.disconnect();
        }
      }
    })();

    const tokens = [sm.value('AWSCURRENT')];
    for (let round = 0; round < 2; round++) {
      const old = sm.value('AWSCURRENT');
      await sm.rotateSecret(id, async (step) => {
        const pending = step === 'finishSecret' ? undefined : sm.value('AWSPENDING');
        group = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
        if (step === 'setSecret' || step === 'testSecret') {
          // Between ROTATE and SET both tokens sign in on every node.
          expect(await answers(group, old)).toEqual(['PONG', 'PONG']);
          expect(await answers(group, pending)).toEqual(['PONG', 'PONG']);
        }
      });
      const now = sm.value('AWSCURRENT');
      tokens.push(now);
      expect(now).not.toBe(old);
      expect(now).toMatch(/^[A-Za-z0-9]{64}$/);
      expect(sm.value('AWSPREVIOUS')).toBe(old);
      expect([...sm.stages.values()].flat().filter((s) => s === 'AWSPENDING')).toEqual([]);
      group = await groupAvailable(ec, id, 30_000, 20);
      expect(await answers(group, old)).toEqual([
        'WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS invalid username-password pair or user is disabled.',
      ]);
      expect(await answers(group, now)).toEqual(['PONG', 'PONG']);
    }
    running = false;
    await Promise.all([pooledLoop, freshLoop]);
    pooled.disconnect();

    expect(failures).toEqual([]);
    expect(new Set(tokens).size).toBe(3);
    // The client kept working through both rotations, on many connections.
    expect(operations).toBeGreaterThan(100);
    expect(fresh).toBeGreaterThan(10);
    expect(sm.calls.filter((c) => c.startsWith('getRandomPassword'))).toEqual([
      'getRandomPassword {"PasswordLength":64,"ExcludePunctuation":true,"IncludeSpace":false}',
      'getRandomPassword {"PasswordLength":64,"ExcludePunctuation":true,"IncludeSpace":false}',
    ]);
  });

  test('each step can be called again without harm, as Secrets Manager may', async () => {
    const id = 'auth-rotation-again';
    const sm = new FakeSecretsManager(`arn:aws:secretsmanager:${REGION}:000000000000:secret:again-AbCdEf`, INITIAL);
    let group = await createAuthGroup(id, sm.value('AWSCURRENT'));
    const token = randomUUID();
    sm.stages.set(token, ['AWSPENDING']);
    const options = { secrets: sm, replicationGroupId: id, pollIntervalMs: 20, waitMs: 60_000 };
    for (const Step of ['createSecret', 'createSecret', 'setSecret', 'setSecret', 'testSecret', 'finishSecret', 'finishSecret'] as const) {
      await rotate({ Step, SecretId: sm.secretId, ClientRequestToken: token }, options);
    }
    expect(sm.calls.filter((c) => c.startsWith('getRandomPassword'))).toHaveLength(1);
    group = await groupAvailable(ec, id, 30_000, 20);
    expect(await answers(group, INITIAL)).toEqual([
      'WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS invalid username-password pair or user is disabled.',
    ]);
    expect(await answers(group, sm.value('AWSCURRENT'))).toEqual(['PONG', 'PONG']);
  });

  test('testSecret fails when the pending token does not sign in', async () => {
    const id = 'auth-rotation-test';
    const sm = new FakeSecretsManager(`arn:aws:secretsmanager:${REGION}:000000000000:secret:test-AbCdEf`, INITIAL);
    await createAuthGroup(id, sm.value('AWSCURRENT'));
    const token = randomUUID();
    sm.stages.set(token, ['AWSPENDING']);
    const options = { secrets: sm, replicationGroupId: id, pollIntervalMs: 20, waitMs: 60_000 };
    await rotate({ Step: 'createSecret', SecretId: sm.secretId, ClientRequestToken: token }, options);
    // setSecret skipped: the group never got the pending token.
    const error = await rotate({ Step: 'testSecret', SecretId: sm.secretId, ClientRequestToken: token }, options).then(() => undefined, (e) => e);
    expect(error?.message).toMatch(/^the pending AUTH token of secret arn:aws:secretsmanager:eu-west-1:000000000000:secret:test-AbCdEf does not sign in to auth-rotation-test-001\.auth-rotation-test\.[a-z0-9]{6}\.euw1\.cache\.amazonaws\.com:6379 of replication group auth-rotation-test: WRONGPASS invalid username-password pair or user is disabled\.$/);
  });
});
