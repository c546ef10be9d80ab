import { Token } from 'aws-cdk-lib';
import { checkOfferedEngineVersion } from '../engine-versions';

/** What the library needs to know of a Redis OSS engine version. */
export interface EngineVersion {
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
    return { major: 7 };
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
  let family: string;
  if (major >= 7) {
    family = `redis${major}`;
  } else if (major === 6) {
    family = 'redis6.x';
  } else {
    family = `redis${major}.${minor ?? 0}`;
  }
  return { major, minor, family };
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
