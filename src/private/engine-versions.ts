import { Token } from 'aws-cdk-lib';

/**
 * The Redis OSS versions ElastiCache offers for node-based (self-designed) clusters, as the
 * ElastiCache user guide lists them ("Supported ElastiCache (Redis OSS) versions",
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/supported-engine-versions.html):
 * 7.1, 7.0, 6.2, 6.0, 5.0.6, 5.0.5, 5.0.4, 5.0.3, 5.0.0 (the 5.0.x before 5.0.6 marked deprecated,
 * "use 5.0.6") and 4.0.10; 3.x and 2.x are past end of life. Redis OSS stops at 7.1: 7.2 and later
 * are Valkey versions (engine `valkey`).
 *
 * `6.x` is also accepted: since 6.0, ElastiCache offers one version per minor release and `6.x`
 * asks for the newest 6 (the Terraform and Pulumi documentation describe it; not confirmed in the
 * AWS documentation stored here). For 7, major and minor must both be given.
 */
export const OFFERED_REDIS_VERSIONS = ['4.0.10', '5.0.0', '5.0.3', '5.0.4', '5.0.5', '5.0.6', '6.0', '6.2', '6.x', '7.0', '7.1'];

/** Throws when a known `engineVersion` is not one ElastiCache offers for Redis OSS. */
export function checkOfferedEngineVersion(version: string): void {
  if (Token.isUnresolved(version) || OFFERED_REDIS_VERSIONS.includes(version)) {
    return;
  }
  const valkey = /^(\d+)\.(\d+)/.exec(version);
  const hint = valkey && (Number(valkey[1]) > 7 || (Number(valkey[1]) === 7 && Number(valkey[2]) >= 2))
    ? '; Redis OSS ends at 7.1, and 7.2 and later are Valkey versions: give engine ElastiCacheEngine.valkey(...) instead'
    : '';
  throw new Error(`engineVersion '${version}' is not a Redis OSS version ElastiCache offers (${OFFERED_REDIS_VERSIONS.join(', ')})${hint}`);
}
