import * as s3 from 'aws-cdk-lib/aws-s3';
import { ElastiCacheEngine } from './engine';

/**
 * Options for restoring from an ElastiCache snapshot.
 */
export interface SnapshotRestoreOptions {
  /**
   * The node type of the group the snapshot was taken from, when known. Snapshots of data-tiering
   * node types (`cache.r6gd.*`) restore only into data-tiering node types, and this lets that be
   * checked at synth time.
   *
   * @default - not known; not checked
   */
  readonly sourceNodeType?: string;

  /**
   * The engine and version of the group the snapshot was taken from, when known. ElastiCache
   * restores a snapshot into a new group of the same engine (Redis OSS into Redis OSS, Valkey into
   * Valkey), at the same or a newer version; this lets that be checked at synth time. A Redis OSS
   * group becomes Valkey by an in-place upgrade, not by a restore.
   *
   * @default - not known; not checked
   */
  readonly sourceEngine?: ElastiCacheEngine;
}

/**
 * The data a new replication group is seeded with when it is created.
 *
 * A restore never happens in place: ElastiCache creates a new group and loads the data into it.
 * The seed is a create-only property, so changing it, or adding or removing it, **replaces the
 * group** (with the group's removal policy applied to the old one).
 */
export class RestoreSource {
  /**
   * Seed from an ElastiCache snapshot in the same region and account (`SnapshotName`): a manual
   * snapshot's name or an automatic one's (`automatic.<group id>-<yyyy>-<mm>-<dd>-<hh>-<mi>`).
   */
  public static fromSnapshot(snapshotName: string, options: SnapshotRestoreOptions = {}): RestoreSource {
    return new RestoreSource(snapshotName, undefined, options.sourceNodeType, options.sourceEngine);
  }

  /**
   * Seed from Redis RDB files in S3 (`SnapshotArns`), one per shard, each as
   * `arn:aws:s3:::bucket/key.rdb`. The objects must be in the group's region, encrypted with SSE-S3
   * (not KMS), and readable by ElastiCache. Which engine wrote them is not known here: an export's
   * manifest names it (`source.engine`), and an RDB written by a newer engine (Valkey 9's RDB 80,
   * say) does not load into an older one, which ElastiCache reports as `restore-failed`.
   */
  public static fromRdbObjectArns(objectArns: string[]): RestoreSource {
    return new RestoreSource(undefined, [...objectArns], undefined, undefined);
  }

  /**
   * Seed from Redis RDB files in a bucket, one key per shard, in shard order.
   */
  public static fromBucket(bucket: s3.IBucket, keys: string[]): RestoreSource {
    return new RestoreSource(undefined, keys.map((key) => bucket.arnForObjects(key)), undefined, undefined);
  }

  private constructor(
    /** The ElastiCache snapshot to seed from, when seeding from a snapshot. */
    public readonly snapshotName: string | undefined,
    /** The RDB objects to seed from, one per shard, when seeding from S3. */
    public readonly rdbObjectArns: string[] | undefined,
    /** The node type of the snapshot's source group, when known. */
    public readonly sourceNodeType: string | undefined,
    /** The engine of the snapshot's source group, when known. */
    public readonly sourceEngine: ElastiCacheEngine | undefined,
  ) {}
}
