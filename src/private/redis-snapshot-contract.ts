/**
 * The contract between the `RedisSnapshot` construct and its custom resource handler
 * (lambda/redis-snapshot): the resource properties CloudFormation passes, and the attributes the
 * handler returns. Shared so that both ends are type-checked against one definition.
 */

import { TimeoutResourceProperties } from './deadline-contract';

/** What happens to the snapshot when the resource is deleted (or replaced by a new name). */
export type SnapshotRemoval = 'retain' | 'destroy';

export interface RedisSnapshotResourceProperties extends TimeoutResourceProperties {
  /** The replication group to snapshot. */
  readonly ReplicationGroupId: string;
  /** The snapshot's name. A new name takes a new snapshot. */
  readonly SnapshotName: string;
  /** The member to take the snapshot from; absent for a group-level snapshot. */
  readonly CacheClusterId?: string;
  /** What happens to the snapshot on deletion. */
  readonly Removal: SnapshotRemoval;
}

export interface RedisSnapshotAttributes {
  readonly SnapshotName: string;
  readonly SnapshotArn: string;
}

/**
 * The tag every snapshot made by the resource carries, with `<stack id>/<logical id>` as its value:
 * it tells the handler's retries its own snapshot from someone else's.
 */
export const OWNER_TAG = 'cdk-elasticache-backup:resource';
