import { Duration } from 'aws-cdk-lib';
import { SnapshotWindow } from './windows';

/**
 * The kind of node a `BackupSource` names.
 */
export enum BackupSourceKind {
  /** The first replica of the group (member `-002`). */
  REPLICA = 'replica',
  /** The node created as the primary (member `-001`). */
  PRIMARY = 'primary',
  /** A member named by its cache cluster id. */
  MEMBER = 'member',
}

/**
 * The node ElastiCache takes automatic snapshots from (`SnapshottingClusterId`).
 *
 * Snapshots taken from a replica leave the primary free to serve writes while Redis forks to save
 * its data, which is what AWS recommends for groups with replicas. A source can only be chosen for
 * groups with cluster mode disabled: with cluster mode enabled, ElastiCache snapshots every shard
 * and picks the nodes itself.
 */
export class BackupSource {
  /**
   * The group's first replica, member `<replication group id>-002`.
   */
  public static replica(): BackupSource {
    return new BackupSource(BackupSourceKind.REPLICA);
  }

  /**
   * The node created as the group's primary, member `<replication group id>-001`. After a failover
   * that node may be a replica; ElastiCache keeps taking snapshots from it.
   */
  public static primary(): BackupSource {
    return new BackupSource(BackupSourceKind.PRIMARY);
  }

  /**
   * A member named by its cache cluster id, `<replication group id>-00N`, where N counts from 1
   * (the node created as primary) to 1 + the number of replicas.
   */
  public static member(cacheClusterId: string): BackupSource {
    return new BackupSource(BackupSourceKind.MEMBER, cacheClusterId);
  }

  private constructor(
    /** The kind of node. */
    public readonly kind: BackupSourceKind,
    /** The member's cache cluster id, for `BackupSourceKind.MEMBER`. */
    public readonly cacheClusterId?: string,
  ) {}
}

/**
 * Snapshots taken before every update of a replication group (`backup.snapshotBeforeUpdate`).
 */
export interface SnapshotBeforeUpdateOptions {
  /**
   * The start of the snapshots' names: each is `<prefix>-YYYYMMDD-HHMMSS` (UTC, when the update
   * started). 1 to 24 lower-case letters, digits or hyphens, starting with a letter. No other
   * snapshot of the account and region may be named this way: only the group's own are pruned
   * (they carry its tag), but an export workflow with the same prefix would prune them too, so
   * the app refuses that at synth time.
   *
   * @default - `pre-` and the replication group id, cut to 24 characters
   */
  readonly prefix?: string;

  /**
   * How many of these snapshots are kept. Once a new one is available, the oldest beyond this
   * count are deleted (only snapshots this group's resource took).
   *
   * @default 5
   */
  readonly keep?: number;
}

/**
 * The backup plan of a replication group: how long automatic snapshots are kept, when they are
 * taken, and from which node.
 */
export interface RedisBackupProps {
  /**
   * How long ElastiCache keeps each automatic snapshot (`SnapshotRetentionLimit`), in whole days
   * from 0 to 35. `Duration.days(0)` turns automatic backups off.
   */
  readonly retention: Duration;

  /**
   * The daily window in which ElastiCache takes the automatic snapshot. It must not overlap the
   * maintenance window.
   *
   * @default - a 60-minute window chosen by ElastiCache
   */
  readonly window?: SnapshotWindow;

  /**
   * The node snapshots are taken from. Only for cluster mode disabled.
   *
   * @default - `BackupSource.replica()` when the group has replicas, otherwise the primary; for
   * cluster mode enabled, ElastiCache chooses
   */
  readonly source?: BackupSource;

  /**
   * The name of a snapshot taken from the primary when the group leaves the stack (the stack is
   * deleted, the group is removed from the app, or it is replaced), verified `available` before the
   * deletion completes.
   *
   * CloudFormation cannot name a final snapshot, so the group is then deleted by a custom resource
   * (`DeleteReplicationGroup` with `FinalSnapshotIdentifier`) and kept by CloudFormation itself
   * (`DeletionPolicy: RetainExceptOnCreate`, `UpdateReplacePolicy: Retain`). Before it deletes
   * anything, the custom resource asks CloudFormation whether the group is leaving: removing or
   * renaming this prop, or any other change that deletes only the custom resource, deletes nothing.
   * A failed deployment's rollback deletes nothing either; CloudFormation itself then deletes a group
   * that the failed operation had just created (it holds nothing but its seed) and keeps any other.
   *
   * If a snapshot with this name already exists, the deletion fails and nothing is deleted: give
   * each replacement a new name. A name used by another snapshot of the app (a `RedisSnapshot`, or
   * another group's final snapshot) in the same account and region fails synth.
   *
   * CloudFormation waits at most one hour for the deletion (its limit for a custom resource). A
   * final snapshot of a large group can take longer: the resource then fails after 58 minutes with
   * an error naming the group, the snapshot and its status, and the stack deletion fails (after a
   * replacement, the update itself has completed and only the old group's cleanup fails). Nothing
   * is lost: ElastiCache cannot stop a deletion it has started, goes on taking the snapshot
   * (`creating`), and deletes the group (`deleting` until then) only once the snapshot is
   * `available`. Wait for that (`aws elasticache describe-snapshots --snapshot-name <name>`), then
   * delete the stack again; the resource then finds the group gone and its snapshot available. If
   * the hour ran out before the deletion could start (the group was busy), the group and its data
   * are untouched and no snapshot exists.
   *
   * @default - no named final snapshot; `removalPolicy` applies (`RemovalPolicy.SNAPSHOT` takes
   * one that CloudFormation names)
   */
  readonly finalSnapshotName?: string;

  /**
   * A manual snapshot of the group as it is, taken and verified `available` before every
   * deployment that updates or replaces the group, and kept (manual snapshots outlive the group).
   * Nothing is taken when the group is first created, when the deployment does not change the
   * group, or while a failed deployment rolls back. A snapshot that fails fails the deployment
   * before the group is changed.
   *
   * How: a custom resource that the group depends on, whose properties are the group's, so that
   * CloudFormation updates it (and waits for its snapshot, up to its one-hour limit for a custom
   * resource) before the group. A change of the AUTH token alone is not preceded by a snapshot (a
   * secret is kept out of the resource's properties). The replication group id must be known at
   * synth time. Not with `cache.t1.micro` (no snapshots).
   *
   * @default - no snapshot before updates; a `RedisSnapshot` in the same deployment runs after the
   * group's update, because it refers to the group
   */
  readonly snapshotBeforeUpdate?: SnapshotBeforeUpdateOptions;
}
