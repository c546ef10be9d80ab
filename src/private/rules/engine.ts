import { Token } from 'aws-cdk-lib';
import { CacheEngine, ElastiCacheEngine } from '../../engine';
import { checkOfferedEngineVersion } from '../engine-versions';
import { parameterGroupFamily } from '../parameter-group-family-contract';

/** What the library needs to know of an engine and its version. */
export interface EngineVersion {
  /** `redis` or `valkey`. */
  readonly engine: CacheEngine;
  /** The version as given, e.g. `7.1` (may be a token for Redis OSS's `engineVersion` string). */
  readonly version: string;
  readonly major: number;
  /** The parameter group family, undefined when the version is a token. */
  readonly family?: string;
  readonly minor?: number;
}

/**
 * A Redis OSS engine version ElastiCache offers (see engine-versions.ts), `4.0.10` at the oldest
 * (the first with encryption), with its parameter group family: `redis7` from 7 on, `redis6.x` for
 * 6, `redis<major>.<minor>` before (ElastiCache user guide, "Parameter groups"). A token is taken
 * for a current engine and nothing version-specific is checked.
 */
export function parseEngineVersion(version: string): EngineVersion {
  if (Token.isUnresolved(version)) {
    // Assume a current engine; nothing version-specific is checked.
    return { engine: CacheEngine.REDIS, version, major: 7 };
  }
  const match = /^(\d+)\.(\d+|x)(\.\d+)?$/.exec(version);
  if (!match) {
    throw new Error(`engineVersion '${version}' is not a Redis OSS version such as '7.1' or '6.2'`);
  }
  const major = Number(match[1]);
  const minor = match[2] === 'x' ? undefined : Number(match[2]);
  if (major < 4) {
    throw new Error(`engineVersion '${version}' is older than Redis OSS 4.0.10, the first version with encryption and the oldest ElastiCache still runs`);
  }
  checkOfferedEngineVersion(version);
  return { engine: CacheEngine.REDIS, version, major, minor, family: parameterGroupFamily(CacheEngine.REDIS, version) };
}

/**
 * The group's engine: `engine` when given, else Redis OSS at `engineVersion` (the deprecated string
 * form), else Redis OSS 7.1. Both at once are refused: they could disagree.
 */
export function resolveEngine(engine: ElastiCacheEngine | undefined, engineVersion: string | undefined): EngineVersion {
  if (engine && engineVersion !== undefined) {
    throw new Error(`engine is ${engine} and engineVersion is '${engineVersion}'; engineVersion is the deprecated string form of a Redis OSS version, so give the version in engine only`);
  }
  if (!engine) {
    return parseEngineVersion(engineVersion ?? DEFAULT_REDIS_VERSION);
  }
  if (engine.engine === CacheEngine.REDIS) {
    return parseEngineVersion(engine.engineVersion);
  }
  return valkeyVersion(engine.engineVersion);
}

/** The Redis OSS version a group gets when no engine is given. */
export const DEFAULT_REDIS_VERSION = '7.1';

/**
 * A Valkey version (the `ValkeyEngineVersion` constants, so always one ElastiCache offers) with its
 * parameter group family, `valkey<major>`: `valkey7` for 7.2 and `valkey8` for 8.0 to 8.2 (ElastiCache
 * user guide, "Engine specific parameters": "Parameter group family: valkey8"; `default.valkey7` is
 * the default group of 7.2). `valkey9` for 9.x follows the same pattern; the stored AWS documentation
 * lists "Valkey 9.1 and Valkey 9.0 parameter changes" without the family line, so `valkey9` is
 * confirmed only by third-party Terraform code, not by AWS.
 */
function valkeyVersion(version: string): EngineVersion {
  const [major, minor] = version.split('.').map(Number);
  return { engine: CacheEngine.VALKEY, version, major, minor, family: parameterGroupFamily(CacheEngine.VALKEY, version) };
}

/**
 * Whether a snapshot of engine `from` loads into a new group of engine `to`. ElastiCache restores a
 * backup into a new cache of its own engine ("Restoring from a backup into a new cache"; moving
 * Redis OSS to Valkey is an in-place engine upgrade, ModifyReplicationGroup with Engine valkey, "How
 * to upgrade from Redis OSS to Valkey"), and an RDB file loads only into an engine at least as new as
 * the one that wrote it (RDB 11 is written by Valkey 7.2 to 8.x, RDB 80 by Valkey 9.0). Whether
 * ElastiCache accepts a Redis OSS snapshot into a new Valkey group directly is not confirmed: the
 * library refuses it and points at the documented path.
 */
export function restoreEngineRule(from: EngineVersion, to: EngineVersion): string | undefined {
  if (from.engine !== to.engine) {
    return from.engine === CacheEngine.REDIS
      ? 'ElastiCache restores a snapshot into a new group of its own engine; to move Redis OSS data to Valkey, restore into Redis OSS and upgrade the group in place (ModifyReplicationGroup with Engine valkey)'
      : 'ElastiCache restores a snapshot into a new group of its own engine, and a Valkey snapshot does not load into Redis OSS';
  }
  if (Token.isUnresolved(to.version) || Token.isUnresolved(from.version)) {
    return undefined;
  }
  const order = (e: EngineVersion) => e.major * 1000 + (e.minor ?? 999);
  if (order(from) > order(to)) {
    return 'an RDB file loads only into an engine version at least as new as the one that wrote it';
  }
  return undefined;
}

/**
 * With transit encryption on, the mode `required` refuses unencrypted connections (ElastiCache user
 * guide, "Enabling in-transit encryption"). The library sets it from Redis OSS 7 on and leaves
 * older engines without a mode; that the mode needs 7.0 or later is not confirmed in the
 * documentation stored here.
 */
export function transitEncryptionMode(transitEncryption: boolean, engine: EngineVersion): string | undefined {
  return transitEncryption && engine.major >= 7 ? 'required' : undefined;
}

/**
 * The parameter group a group without parameters of its own uses: the engine's default
 * (CloudFormation picks it, so none is named) with cluster mode disabled, and
 * `default.<family>.cluster.on` with it enabled, as a cluster needs `cluster-enabled` `yes`.
 */
export function defaultParameterGroupName(engine: EngineVersion, clustered: boolean): string | undefined {
  return clustered ? `default.${engine.family}.cluster.on` : undefined;
}

/** A parameter group's family and parameters. */
export interface ParameterGroupProperties {
  readonly family: string;
  readonly properties: { [name: string]: string };
}

/**
 * The properties of a parameter group made for the group: the family comes from a known engine
 * version, and a cluster needs `cluster-enabled` `yes` (set here, refused if asked to be `no`).
 */
export function parameterGroupProperties(
  parameters: { [name: string]: string }, engine: EngineVersion, clustered: boolean,
): ParameterGroupProperties {
  if (engine.family === undefined) {
    throw new Error('parameters are given but engineVersion is a token; the parameter group family is derived from a known engineVersion');
  }
  if (clustered && parameters['cluster-enabled'] === 'no') {
    throw new Error("parameters sets 'cluster-enabled' to 'no' but clusterMode is ClusterMode.ENABLED; a cluster needs 'cluster-enabled' 'yes'");
  }
  return { family: engine.family, properties: clustered ? { ...parameters, 'cluster-enabled': 'yes' } : parameters };
}
