/**
 * Secrets Manager, as far as the library's stacks and functions use it: secrets per region with
 * versions and staging labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS), the calls of the AUTH token
 * rotation function (lambda/handlers/auth-token-rotation.ts: DescribeSecret, GetSecretValue,
 * PutSecretValue, GetRandomPassword, UpdateSecretVersionStage), and CreateSecret / DeleteSecret /
 * RestoreSecret. The AWS JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Operation>`).
 *
 * CloudFormation's `GenerateSecretString` is applied by CloudFormation, not by the API: the local
 * deployer calls `createSecret(region, name, { generate })`. Values are kept as given (no KMS);
 * replication to other regions, resource policies and rotation schedules are not modelled
 * (`RotationEnabled` and the rotation function's ARN are kept as set by `setRotation`).
 * Facts are from the Secrets Manager API reference, per operation.
 */
import { randomBytes, randomInt, randomUUID } from 'crypto';
import { jsonRequest } from './json-protocol';
import { LOCAL_ACCOUNT } from './sts';

/** Secret names: 1 to 512 of ASCII letters, digits and /_+=.@- (API reference, CreateSecret `Name`). */
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** A secret value: at most 65,536 bytes (API reference, CreateSecret `SecretString`). */
const MAX_VALUE = 65_536;
/** ClientRequestToken: 32 to 64 characters (API reference, PutSecretValue). */
const TOKEN = /^.{32,64}$/s;
/** The characters GetRandomPassword treats as punctuation (API reference, GetRandomPassword `ExcludePunctuation`). */
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const DAY = 86_400_000;

export class SecretsManagerError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

interface Version {
  readonly id: string;
  readonly string?: string;
  readonly binary?: string;
  readonly created: number;
  stages: string[];
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  readonly created: number;
  changed: number;
  accessed?: number;
  deletionDate?: number;
  rotationLambdaArn?: string;
  rotationEnabled: boolean;
  readonly tags: Array<{ Key: string; Value: string }>;
  /** In creation order. */
  readonly versions: Version[];
}

/** What `GenerateSecretString` (CloudFormation) and GetRandomPassword take. */
export interface PasswordOptions {
  readonly passwordLength?: number;
  readonly excludeCharacters?: string;
  readonly excludeNumbers?: boolean;
  readonly excludePunctuation?: boolean;
  readonly excludeUppercase?: boolean;
  readonly excludeLowercase?: boolean;
  readonly includeSpace?: boolean;
  readonly requireEachIncludedType?: boolean;
}

/** CloudFormation's `GenerateSecretString`: a password, alone or as `generateStringKey` of the JSON `secretStringTemplate`. */
export interface GenerateOptions extends PasswordOptions {
  readonly secretStringTemplate?: string;
  readonly generateStringKey?: string;
}

export interface CreateSecretOptions {
  readonly secretString?: string;
  readonly generate?: GenerateOptions;
  readonly description?: string;
  readonly tags?: Array<{ Key: string; Value: string }>;
}

export interface SecretsManagerAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * A password as GetRandomPassword makes it: `passwordLength` (default 32, 1 to 4,096) characters
 * from the included types, at least one of each when `requireEachIncludedType` (default true).
 */
export function randomPassword(o: PasswordOptions = {}): string {
  const length = o.passwordLength ?? 32;
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw new SecretsManagerError('InvalidParameterException', 'Password length must be between 1 and 4096.');
  }
  const excluded = new Set(o.excludeCharacters ?? '');
  const types = [
    o.excludeLowercase ? '' : LOWER, o.excludeUppercase ? '' : UPPER, o.excludeNumbers ? '' : DIGITS,
    o.excludePunctuation ? '' : PUNCTUATION, o.includeSpace ? ' ' : '',
  ].map((set) => [...set].filter((c) => !excluded.has(c)).join('')).filter((set) => set.length > 0);
  if (types.length === 0) {
    throw new SecretsManagerError('InvalidParameterException', 'The password cannot be generated: every character is excluded.');
  }
  const all = types.join('');
  const pick = (set: string) => set[randomInt(set.length)];
  const chars = Array.from({ length }, () => pick(all));
  if (o.requireEachIncludedType ?? true) {
    if (types.length > length) {
      throw new SecretsManagerError('InvalidParameterException', 'The password length is too short to include a character of each required type.');
    }
    // One of each type, at distinct random positions.
    const positions = [...Array(length).keys()];
    for (let i = positions.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [positions[i], positions[j]] = [positions[j], positions[i]];
    }
    types.forEach((set, i) => { chars[positions[i]] = pick(set); });
  }
  return chars.join('');
}

/** CloudFormation's GenerateSecretString: the password, or the template with the password under the key. */
export function generateSecretString(g: GenerateOptions): string {
  const password = randomPassword(g);
  if (g.secretStringTemplate === undefined && g.generateStringKey === undefined) return password;
  if (g.secretStringTemplate === undefined || g.generateStringKey === undefined) {
    // CloudFormation user guide, AWS::SecretsManager::Secret GenerateSecretString: both or neither.
    throw new SecretsManagerError('InvalidParameterException', 'SecretStringTemplate and GenerateStringKey must be used together.');
  }
  let template: unknown;
  try {
    template = JSON.parse(g.secretStringTemplate);
  } catch {
    throw new SecretsManagerError('InvalidParameterException', 'SecretStringTemplate is not valid JSON.');
  }
  if (typeof template !== 'object' || template === null || Array.isArray(template)) {
    throw new SecretsManagerError('InvalidParameterException', 'SecretStringTemplate must be a JSON object.');
  }
  return JSON.stringify({ ...template, [g.generateStringKey]: password });
}

/** The ARN suffix AWS adds to a secret's name: a hyphen and six random letters and digits. */
function suffix(): string {
  const chars = LOWER + UPPER + DIGITS;
  return '-' + [...randomBytes(6)].map((b) => chars[b % chars.length]).join('');
}

export class LocalSecretsManager {
  /** Secrets by region, then by name. */
  private readonly regions = new Map<string, Map<string, Secret>>();

  constructor(private readonly now: () => number) {}

  /** Creates a secret for the deployer (AWS::SecretsManager::Secret), applying `generate` as CloudFormation does. */
  public createSecret(region: string, name: string, options: CreateSecretOptions = {}): { arn: string; name: string; versionId?: string } {
    if (options.secretString !== undefined && options.generate !== undefined) {
      throw new SecretsManagerError('InvalidParameterException', 'You can\'t specify both SecretString and GenerateSecretString.');
    }
    const value = options.generate ? generateSecretString(options.generate) : options.secretString;
    const r = this.create(region, { Name: name, SecretString: value, Description: options.description, Tags: options.tags });
    return { arn: r.ARN as string, name, versionId: r.VersionId as string | undefined };
  }

  /** The secret's current string value (for the deployer's `{{resolve:secretsmanager:...}}`). */
  public currentValue(region: string, secretId: string): string | undefined {
    return this.version(this.find(region, secretId), undefined, 'AWSCURRENT').string;
  }

  /** Turns rotation on with the given function (what RotateSecret records), for the deployer's RotationSchedule. */
  public setRotation(region: string, secretId: string, lambdaArn: string): void {
    const secret = this.find(region, secretId);
    secret.rotationEnabled = true;
    secret.rotationLambdaArn = lambdaArn;
  }

  /** Answers one request: the operation from `X-Amz-Target`, the JSON body. */
  public handle(region: string, target: string | undefined, body: string): SecretsManagerAnswer {
    try {
      const { operation, input } = jsonRequest('secretsmanager', target, body, (code, message) => new SecretsManagerError(code, message));
      return { status: 200, body: JSON.stringify(this.operation(region, operation ?? target ?? '(none)', input)) };
    } catch (e) {
      if (!(e instanceof SecretsManagerError)) throw e;
      return { status: e.status, body: JSON.stringify({ __type: e.type, message: e.message }) };
    }
  }

  private operation(region: string, operation: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (operation) {
      case 'CreateSecret': return this.create(region, input);
      case 'GetSecretValue': return this.getValue(region, input);
      case 'PutSecretValue': return this.putValue(region, input);
      case 'DescribeSecret': return this.describe(region, this.find(region, secretIdOf(input)));
      case 'UpdateSecretVersionStage': return this.updateStage(region, input);
      case 'DeleteSecret': return this.delete(region, input);
      case 'RestoreSecret': {
        const secret = this.find(region, secretIdOf(input), true);
        secret.deletionDate = undefined;
        return { ARN: secret.arn, Name: secret.name };
      }
      case 'ListSecrets': {
        const secrets = [...this.store(region).values()].filter((s) => s.deletionDate === undefined || input.IncludePlannedDeletion === true);
        return { SecretList: secrets.map((s) => this.describe(region, s)) };
      }
      case 'GetRandomPassword': return { RandomPassword: randomPassword(passwordOptions(input)) };
      default:
        // AWS JSON protocols: an unknown X-Amz-Target is UnknownOperationException.
        throw new SecretsManagerError('UnknownOperationException', `The local provider does not emulate Secrets Manager operation ${operation}.`);
    }
  }

  private store(region: string): Map<string, Secret> {
    let store = this.regions.get(region);
    if (!store) {
      store = new Map();
      this.regions.set(region, store);
    }
    // A secret whose recovery window has passed is gone (DeleteSecret: deleted "at the end of the recovery window").
    for (const [name, s] of store) if (s.deletionDate !== undefined && s.deletionDate <= this.now()) store.delete(name);
    return store;
  }

  /**
   * A secret by name, full ARN or partial ARN (the ARN without its random suffix), as SecretId takes
   * them. One marked for deletion is refused unless `deleted` is allowed.
   */
  private find(region: string, id: string, deleted = false): Secret {
    const store = this.store(region);
    const secret = store.get(id) ?? [...store.values()].find((s) => s.arn === id || s.arn.slice(0, -7) === id);
    if (!secret) throw new SecretsManagerError('ResourceNotFoundException', 'Secrets Manager can\'t find the specified secret.');
    if (secret.deletionDate !== undefined && !deleted) {
      throw new SecretsManagerError('InvalidRequestException',
        'You can\'t perform this operation on the secret because it was marked for deletion.');
    }
    return secret;
  }

  private create(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const name = input.Name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new SecretsManagerError('InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    const value = secretValue(input);
    const token = optionalToken(input.ClientRequestToken);
    const tags = input.Tags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t?.Key === 'string' && typeof t?.Value === 'string')) {
      throw new SecretsManagerError('InvalidParameterException', 'Tags must be a list of Key and Value strings.');
    }
    const store = this.store(region);
    const existing = store.get(name);
    if (existing) {
      if (existing.deletionDate !== undefined) {
        throw new SecretsManagerError('InvalidRequestException',
          'You can\'t create this secret because a secret with this name is already scheduled for deletion.');
      }
      throw new SecretsManagerError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    if (input.Description !== undefined && (typeof input.Description !== 'string' || input.Description.length > 2048)) {
      throw new SecretsManagerError('InvalidParameterException', 'Description must be a string of at most 2048 characters.');
    }
    const now = this.now();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${region}:${LOCAL_ACCOUNT}:secret:${name}${suffix()}`,
      name,
      description: input.Description as string | undefined,
      created: now,
      changed: now,
      rotationEnabled: false,
      tags: tags as Secret['tags'],
      versions: [],
    };
    store.set(name, secret);
    // CreateSecret without a value makes a secret with no version (API reference, CreateSecret).
    if (value === undefined) return { ARN: secret.arn, Name: name };
    const version = this.addVersion(secret, token ?? randomUUID(), value, ['AWSCURRENT']);
    return { ARN: secret.arn, Name: name, VersionId: version.id };
  }

  private getValue(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(region, secretIdOf(input));
    const versionId = optionalString(input.VersionId, 'VersionId');
    const stage = optionalString(input.VersionStage, 'VersionStage');
    const version = this.version(secret, versionId, stage ?? (versionId === undefined ? 'AWSCURRENT' : undefined));
    secret.accessed = this.now();
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      VersionStages: [...version.stages],
      CreatedDate: version.created / 1000,
      ...(version.string !== undefined ? { SecretString: version.string } : { SecretBinary: version.binary }),
    };
  }

  /** A version by id and/or stage; both must name the same version (API reference, GetSecretValue). */
  private version(secret: Secret, versionId: string | undefined, stage: string | undefined): Version {
    const version = versionId !== undefined
      ? secret.versions.find((v) => v.id === versionId)
      : secret.versions.find((v) => v.stages.includes(stage ?? 'AWSCURRENT'));
    if (!version || (stage !== undefined && !version.stages.includes(stage))) {
      // The message when both are given is NOT CONFIRMED against AWS; the code is (the rotation templates catch it).
      const what = [versionId !== undefined ? `VersionId: ${versionId}` : '', stage !== undefined ? `staging label: ${stage}` : ''].filter(Boolean).join(' and ');
      throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${what}`);
    }
    return version;
  }

  private putValue(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(region, secretIdOf(input));
    const value = secretValue(input);
    if (value === undefined) {
      throw new SecretsManagerError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
    }
    const token = optionalToken(input.ClientRequestToken) ?? randomUUID();
    const stages = input.VersionStages ?? ['AWSCURRENT'];
    if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20 || !stages.every((s) => typeof s === 'string' && s.length >= 1 && s.length <= 256)) {
      throw new SecretsManagerError('InvalidParameterException', 'VersionStages must be a list of 1 to 20 staging labels.');
    }
    const existing = secret.versions.find((v) => v.id === token);
    if (existing) {
      // The same token and value again is ignored; another value is refused: a version never changes (API reference, PutSecretValue).
      if (existing.string !== value.string || existing.binary !== value.binary) {
        throw new SecretsManagerError('ResourceExistsException', `A version with ClientRequestToken ${token} already exists with a different value.`);
      }
      return { ARN: secret.arn, Name: secret.name, VersionId: existing.id, VersionStages: [...existing.stages] };
    }
    const version = this.addVersion(secret, token, value, stages as string[]);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  private addVersion(secret: Secret, id: string, value: { string?: string; binary?: string }, stages: string[]): Version {
    const version: Version = { id, ...value, created: this.now(), stages: [] };
    secret.versions.push(version);
    for (const stage of stages) this.moveStage(secret, stage, version);
    // Versions without a label are deprecated and removed (AWS keeps up to 100; the local provider none).
    secret.versions.splice(0, secret.versions.length, ...secret.versions.filter((v) => v.stages.length > 0));
    secret.changed = this.now();
    return version;
  }

  /** Puts `stage` on `to`, taking it off the version that had it; AWSCURRENT's old version becomes AWSPREVIOUS. */
  private moveStage(secret: Secret, stage: string, to: Version): void {
    const from = secret.versions.find((v) => v.stages.includes(stage));
    if (from === to) return;
    if (from) from.stages = from.stages.filter((s) => s !== stage);
    to.stages.push(stage);
    if (stage === 'AWSCURRENT' && from) {
      this.moveStage(secret, 'AWSPREVIOUS', from);
      to.stages = to.stages.filter((s) => s !== 'AWSPREVIOUS');
    }
  }

  private updateStage(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(region, secretIdOf(input));
    const stage = input.VersionStage;
    if (typeof stage !== 'string' || stage.length < 1 || stage.length > 256) {
      throw new SecretsManagerError('InvalidParameterException', 'You must specify a VersionStage of 1 to 256 characters.');
    }
    const move = optionalString(input.MoveToVersionId, 'MoveToVersionId');
    const remove = optionalString(input.RemoveFromVersionId, 'RemoveFromVersionId');
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (remove !== undefined && holder?.id !== remove) {
      throw new SecretsManagerError('InvalidParameterException', `The staging label ${stage} is not attached to version ${remove}.`);
    }
    const target = move === undefined ? undefined : secret.versions.find((v) => v.id === move);
    if (move !== undefined && !target) {
      throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${move}`);
    }
    // Moving a label that another version holds requires naming that version (API reference, UpdateSecretVersionStage).
    if (holder && target && holder !== target && remove === undefined) {
      throw new SecretsManagerError('InvalidParameterException',
        `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, `
        + 'so you must explicitly reference that version in RemoveFromVersionId.');
    }
    if (stage === 'AWSCURRENT' && !target) {
      throw new SecretsManagerError('InvalidParameterException', 'You can\'t remove the staging label AWSCURRENT without moving it to another version.');
    }
    if (target) {
      this.moveStage(secret, stage, target);
    } else if (holder) {
      holder.stages = holder.stages.filter((s) => s !== stage);
    }
    secret.versions.splice(0, secret.versions.length, ...secret.versions.filter((v) => v.stages.length > 0));
    secret.changed = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  private delete(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const secret = this.find(region, secretIdOf(input), true);
    const force = input.ForceDeleteWithoutRecovery;
    const window = input.RecoveryWindowInDays;
    if (force !== undefined && typeof force !== 'boolean') {
      throw new SecretsManagerError('InvalidParameterException', 'ForceDeleteWithoutRecovery must be a boolean.');
    }
    if (force === true && window !== undefined) {
      throw new SecretsManagerError('InvalidParameterException',
        'You can\'t use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.');
    }
    const days = window ?? 30;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) {
      throw new SecretsManagerError('InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    if (secret.deletionDate !== undefined && force !== true) {
      throw new SecretsManagerError('InvalidRequestException',
        'You can\'t perform this operation on the secret because it was already scheduled for deletion.');
    }
    const when = force === true ? this.now() : this.now() + days * DAY;
    if (force === true) {
      this.store(region).delete(secret.name);
    } else {
      secret.deletionDate = when;
    }
    return { ARN: secret.arn, Name: secret.name, DeletionDate: when / 1000 };
  }

  private describe(region: string, s: Secret): Record<string, unknown> {
    return {
      ARN: s.arn,
      Name: s.name,
      Description: s.description,
      RotationEnabled: s.rotationEnabled,
      RotationLambdaARN: s.rotationLambdaArn,
      CreatedDate: s.created / 1000,
      LastChangedDate: s.changed / 1000,
      // LastAccessedDate is the date only, rounded down (API reference, DescribeSecret).
      LastAccessedDate: s.accessed === undefined ? undefined : Math.floor(s.accessed / DAY) * DAY / 1000,
      DeletedDate: s.deletionDate === undefined ? undefined : s.deletionDate / 1000,
      Tags: s.tags.length > 0 ? s.tags : undefined,
      VersionIdsToStages: Object.fromEntries(s.versions.map((v) => [v.id, [...v.stages]])),
      PrimaryRegion: region,
    };
  }
}

function secretIdOf(input: Record<string, unknown>): string {
  const id = input.SecretId;
  if (typeof id !== 'string' || id.length < 1 || id.length > 2048) {
    throw new SecretsManagerError('InvalidParameterException', 'You must specify a SecretId of 1 to 2048 characters.');
  }
  return id;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length < 1) throw new SecretsManagerError('InvalidParameterException', `${name} must be a non-empty string.`);
  return value;
}

function optionalToken(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw new SecretsManagerError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters long.');
  }
  return value;
}

/** SecretString or SecretBinary (base64 in JSON), not both. */
function secretValue(input: Record<string, unknown>): { string?: string; binary?: string } | undefined {
  const { SecretString: s, SecretBinary: b } = input;
  if (s !== undefined && b !== undefined) {
    throw new SecretsManagerError('InvalidParameterException', 'You can\'t specify both a binary secret value and a string secret value in the same secret.');
  }
  if (s !== undefined) {
    if (typeof s !== 'string' || s.length < 1 || Buffer.byteLength(s) > MAX_VALUE) {
      throw new SecretsManagerError('InvalidParameterException', `SecretString must be 1 to ${MAX_VALUE} bytes.`);
    }
    return { string: s };
  }
  if (b !== undefined) {
    if (typeof b !== 'string' || b.length < 1 || Buffer.from(b, 'base64').length > MAX_VALUE) {
      throw new SecretsManagerError('InvalidParameterException', `SecretBinary must be 1 to ${MAX_VALUE} bytes.`);
    }
    return { binary: b };
  }
  return undefined;
}

function passwordOptions(input: Record<string, unknown>): PasswordOptions {
  const bool = (name: string) => {
    const v = input[name];
    if (v !== undefined && typeof v !== 'boolean') throw new SecretsManagerError('InvalidParameterException', `${name} must be a boolean.`);
    return v as boolean | undefined;
  };
  const length = input.PasswordLength;
  if (length !== undefined && typeof length !== 'number') throw new SecretsManagerError('InvalidParameterException', 'PasswordLength must be a number.');
  const exclude = input.ExcludeCharacters;
  if (exclude !== undefined && (typeof exclude !== 'string' || exclude.length > 4096)) {
    throw new SecretsManagerError('InvalidParameterException', 'ExcludeCharacters must be a string of at most 4096 characters.');
  }
  return {
    passwordLength: length,
    excludeCharacters: exclude,
    excludeNumbers: bool('ExcludeNumbers'),
    excludePunctuation: bool('ExcludePunctuation'),
    excludeUppercase: bool('ExcludeUppercase'),
    excludeLowercase: bool('ExcludeLowercase'),
    includeSpace: bool('IncludeSpace'),
    requireEachIncludedType: bool('RequireEachIncludedType'),
  };
}
