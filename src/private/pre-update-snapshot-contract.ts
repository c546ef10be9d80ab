/**
 * The contract between `RedisReplicationGroup` (`backup.snapshotBeforeUpdate`) and the pre-update
 * snapshot handler (lambda/handlers/pre-update-snapshot.ts).
 */
export interface PreUpdateSnapshotResourceProperties {
  /** The group's id (a literal: the group depends on this resource, so it cannot refer to the group). */
  readonly ReplicationGroupId: string;
  /** The member snapshots are taken from; absent for a group-level snapshot (cluster mode enabled). */
  readonly CacheClusterId?: string;
  /** Snapshots are named `<prefix>-YYYYMMDD-HHMMSS` (UTC). */
  readonly SnapshotPrefix: string;
  /** How many of this resource's snapshots are kept (CloudFormation passes numbers as strings). */
  readonly Keep: number | string;
  /**
   * The group's CloudFormation properties (without its AUTH token): any change to them changes this
   * resource's properties, so CloudFormation updates this resource, and its snapshot is taken, first.
   */
  readonly GroupProperties: Record<string, unknown>;
}

/** The name pattern of a resource's snapshots: `<prefix>-YYYYMMDD-HHMMSS`. */
export function preUpdateSnapshotPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}-\\d{6}$`);
}

/** `<prefix>-YYYYMMDD-HHMMSS` for a time (UTC). */
export function preUpdateSnapshotName(prefix: string, at: Date): string {
  const iso = at.toISOString(); // 2026-11-22T02:40:25.123Z
  return `${prefix}-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/** The longest prefix: the name's `-YYYYMMDD-HHMMSS` (16 characters) must fit ElastiCache's 40. */
export const MAX_PRE_UPDATE_PREFIX_LENGTH = 24;
