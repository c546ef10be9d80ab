/**
 * The ElastiCache facts the emulator enforces, kept here and not imported from the library (src/):
 * if the library gets one wrong, the emulator must disagree with it, not repeat the mistake.
 * Sources: ELASTICACHE-FACTS.md and the AWS pages cited on each.
 */

/**
 * The canonical user ElastiCache reads seeds and writes exports as, in regions launched before
 * 2019-03-20 (ElastiCache user guide, "Exporting a backup": grant access to your Amazon S3 bucket).
 */
export const ELASTICACHE_CANONICAL_ID = '540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353';

/**
 * Opt-in regions (launched after 2019-03-20): there ElastiCache acts as the regional service
 * principal `<region>.elasticache-snapshot.amazonaws.com`, granted by a bucket policy.
 */
export const OPT_IN_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
  'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1',
]);

/** The regional service principal ElastiCache exports and seeds as in an opt-in region. */
export function snapshotServicePrincipal(region: string): string {
  return `${region}.elasticache-snapshot.amazonaws.com`;
}

/** What the service principal needs on an export bucket, in opt-in regions. */
export const EXPORT_POLICY_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:ListBucket', 's3:GetBucketAcl', 's3:ListMultipartUploadParts', 's3:ListBucketMultipartUploads'];

/** The bucket ACL permissions the canonical user needs for an export: list, write, read the ACL. */
export const EXPORT_ACL_PERMISSIONS = ['READ', 'WRITE', 'READ_ACP'] as const;

/** The number of hash slots in a Redis Cluster. */
export const HASH_SLOTS = 16384;

/**
 * The hash slots split evenly over `shards`, as ElastiCache (and `redis-cli --cluster create`)
 * splits them when NodeGroupConfiguration gives none: 3 shards get `0-5460`, `5461-10922`,
 * `10923-16383`.
 */
export function evenSlots(shards: number): string[] {
  const ranges: string[] = [];
  let first = 0;
  for (let i = 0; i < shards; i++) {
    const last = i === shards - 1 ? HASH_SLOTS - 1 : Math.min(HASH_SLOTS - 1, Math.round(((i + 1) * HASH_SLOTS) / shards - 1));
    ranges.push(`${first}-${last}`);
    first = last + 1;
  }
  return ranges;
}

/** The most manual snapshots ElastiCache lets one node take in 24 hours. */
export const MANUAL_SNAPSHOT_QUOTA = 20;

/** The longest retention of automatic snapshots, in days. */
export const MAX_RETENTION_DAYS = 35;

/** Nodes in a cluster mode disabled group: a primary and up to 5 replicas. */
export const MAX_NODES_PER_SHARD = 6;

/** Shards of a cluster mode enabled group (with a raised quota). */
export const MAX_SHARDS = 500;

/** Replication group ids and snapshot names: 1-40 letters, digits or hyphens, starting with a letter, no `--`, no trailing `-`. */
export const NAME = /^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$/;

/** Node types without snapshot support (cluster mode disabled). */
export const NO_SNAPSHOT_NODE_TYPES: ReadonlySet<string> = new Set(['cache.t1.micro']);

/** Data tiering node types: no export to S3; their snapshots restore only into data tiering nodes. */
export const DATA_TIERING = /^cache\.r6gd\./;

/**
 * The engine versions ElastiCache offers node-based replication groups. Redis OSS (ElastiCache user
 * guide, "Supported ElastiCache (Redis OSS) versions"): 4.0.10 to 7.1, with `6.x` for the newest 6.
 * Valkey ("Engine versions and upgrading in ElastiCache"): 7.2, 8.0, 8.1, 8.2, 9.0 and 9.1. Both run
 * on Debian's redis-server 7.0 here: there is no valkey-server package on these machines.
 */
export const ENGINE_VERSIONS: Readonly<Record<'redis' | 'valkey', readonly string[]>> = {
  redis: ['4.0.10', '5.0.0', '5.0.3', '5.0.4', '5.0.5', '5.0.6', '6.0', '6.2', '6.x', '7.0', '7.1'],
  valkey: ['7.2', '8.0', '8.1', '8.2', '9.0', '9.1'],
};

/**
 * The version a new group gets when CreateReplicationGroup names none: Redis OSS 7.1, and for Valkey
 * the newest listed above (ElastiCache's own default for Valkey is not stated in the stored
 * documentation; assumed to be the newest).
 */
export const DEFAULT_ENGINE_VERSION: Readonly<Record<'redis' | 'valkey', string>> = { redis: '7.1', valkey: '9.1' };

/** Orders engine versions (`6.x` after `6.2`): an RDB written by a newer engine does not load into an older one. */
export function versionOrder(version: string): number {
  const [major, minor] = version.split('.');
  return Number(major) * 1000 + (minor === 'x' ? 999 : Number(minor));
}
