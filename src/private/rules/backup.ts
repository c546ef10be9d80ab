import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { cannotSnapshot } from './node-type';
import { BackupSourceKind, RedisBackupProps, SnapshotBeforeUpdateOptions } from '../../backup';
import { ClusterMode } from '../../replication-group-base';
import { MaintenanceWindow } from '../../windows';
import { memberIds } from '../members';
import { checkName, MAX_SNAPSHOT_NAME_LENGTH } from '../names';
import { MAX_PRE_UPDATE_PREFIX_LENGTH } from '../pre-update-snapshot-contract';
import { WindowRange, windowsOverlap } from '../window-range';

/**
 * Days automatic snapshots are kept when no backup plan is given: 15, the least the cdk-nag HIPAA
 * Security and NIST 800-53 packs accept.
 */
export const DEFAULT_RETENTION_DAYS = 15;

/** A backup plan with its retention in whole days. */
export interface ResolvedBackup {
  readonly retentionDays: number;
  readonly window?: RedisBackupProps['window'];
  readonly source?: RedisBackupProps['source'];
}

/**
 * ElastiCache keeps automatic snapshots for a whole number of days, 0 to 35; 0 turns them off
 * (SnapshotRetentionLimit, CloudFormation `AWS::ElastiCache::ReplicationGroup`). The retention must
 * be known at synth time: it decides whether a snapshotting member is set.
 */
export function resolveBackup(backup: RedisBackupProps | undefined): ResolvedBackup {
  if (!backup) {
    return { retentionDays: DEFAULT_RETENTION_DAYS };
  }
  const retention = backup.retention;
  if (retention === undefined) {
    // Only a caller without the types (JavaScript, or a cast) gets here.
    throw new Error('backup is given without backup.retention; say how long automatic snapshots are kept (Duration.days(0) turns them off)');
  }
  if (retention.isUnresolved()) {
    throw new Error('backup.retention is a token; it must be known at synth time to set the snapshotting node');
  }
  const days = retention.toDays({ integral: false });
  if (!Number.isInteger(days)) {
    throw new Error(`backup.retention is ${retention.toHumanString()}, which is not a whole number of days; ElastiCache keeps snapshots for whole days (SnapshotRetentionLimit)`);
  }
  if (days < 0 || days > 35) {
    throw new Error(`backup.retention is ${days} days; ElastiCache keeps automatic snapshots for 0 to 35 days (0 turns them off)`);
  }
  return { retentionDays: days, window: backup.window, source: backup.source };
}

/** The snapshot window and the maintenance window, as parsed ranges (undefined when unset or a token). */
export interface BackupWindows {
  readonly snapshotRange?: WindowRange;
  readonly maintenanceRange?: WindowRange;
}

/**
 * Both windows are valid and do not overlap: "The snapshot window and maintenance window must not
 * overlap" (ElastiCache's error). The snapshot window repeats every day, so it is compared with the
 * weekly maintenance window on each day.
 */
export function checkBackupWindows(backup: ResolvedBackup, maintenanceWindow: MaintenanceWindow | undefined): BackupWindows {
  const snapshotRange = backup.window?._validate('backup.window');
  const maintenanceRange = maintenanceWindow?._validate('maintenanceWindow');
  if (snapshotRange && maintenanceRange && windowsOverlap(snapshotRange, maintenanceRange)) {
    throw new Error(`backup.window '${backup.window}' overlaps maintenanceWindow '${maintenanceWindow}'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)`);
  }
  return { snapshotRange, maintenanceRange };
}

/** Automatic snapshots need a node type that can be snapshotted (see `cannotSnapshot`). */
export function checkAutomaticSnapshotsSupported(backup: ResolvedBackup, nodeType: string, clustered: boolean): void {
  if (backup.retentionDays > 0 && cannotSnapshot(nodeType, clustered)) {
    throw new Error(`backup.retention is ${backup.retentionDays} days but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault); use a current node type or set backup.retention to Duration.days(0)`);
  }
}

/**
 * The member automatic snapshots are taken from (`SnapshottingClusterId`), or undefined with cluster
 * mode enabled, where ElastiCache refuses one ("Cannot set snapshotting cluster for cluster mode
 * enabled replication group") and snapshots every shard itself. With replicas and no source given,
 * the first replica: ElastiCache rejects a retention without a snapshotting cluster once there are
 * replicas ("Must specify both SnapshotRetentionLimit and SnapshottingClusterId").
 */
export function snapshottingMember(backup: ResolvedBackup, groupId: string, clusterMode: ClusterMode, replicas: number): string | undefined {
  const source = backup.source;
  if (clusterMode === ClusterMode.ENABLED) {
    if (source) {
      throw new Error(`backup.source is BackupSource.${source.kind}(${source.cacheClusterId ? `'${source.cacheClusterId}'` : ''}) but clusterMode is ClusterMode.ENABLED; ElastiCache cannot set a snapshotting cluster for a cluster mode enabled group (it snapshots every shard itself)`);
    }
    return undefined;
  }
  const members = memberIds(groupId, false, 1, replicas);
  switch (source?.kind) {
    case undefined:
      // ElastiCache rejects a retention without a snapshotting cluster once there are replicas.
      return replicas > 0 ? members[1] : members[0];
    case BackupSourceKind.PRIMARY:
      return members[0];
    case BackupSourceKind.REPLICA:
      if (replicas === 0) {
        throw new Error('backup.source is BackupSource.replica() but replicasPerShard is 0; use BackupSource.primary() or add a replica');
      }
      return members[1];
    case BackupSourceKind.MEMBER: {
      const member = source.cacheClusterId!;
      if (Token.isUnresolved(member) || Token.isUnresolved(groupId)) {
        return member;
      }
      if (!members.includes(member)) {
        throw new Error(`backup.source member '${member}' does not exist; replication group '${groupId}' has members ${members.join(', ')}`);
      }
      return member;
    }
    default:
      throw new Error('backup.source has an unknown kind');
  }
}

/**
 * A named final snapshot: a valid snapshot name, in place of `RemovalPolicy.SNAPSHOT` (whose
 * snapshot CloudFormation names itself), on a node type that can be snapshotted.
 * DeleteReplicationGroup takes it as FinalSnapshotIdentifier (ElastiCache API Reference).
 */
export function checkFinalSnapshot(name: string, removalPolicy: RemovalPolicy | undefined, nodeType: string, clustered: boolean): void {
  checkName('backup.finalSnapshotName', name, MAX_SNAPSHOT_NAME_LENGTH);
  if (removalPolicy !== undefined && removalPolicy !== RemovalPolicy.SNAPSHOT) {
    throw new Error(`backup.finalSnapshotName is '${name}' but removalPolicy is ${removalPolicy}; a named final snapshot takes the place of RemovalPolicy.SNAPSHOT (leave removalPolicy unset)`);
  }
  if (cannotSnapshot(nodeType, clustered)) {
    throw new Error(`backup.finalSnapshotName is '${name}' but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault)`);
  }
}

/** Snapshots before updates kept when `keep` is not given. */
export const DEFAULT_PRE_UPDATE_KEEP = 5;

/**
 * `backup.snapshotBeforeUpdate`: the group's id known at synth time (the snapshot runs before the
 * group's update, so it cannot refer to the group), a node type that can be snapshotted, a prefix
 * that leaves room for `-YYYYMMDD-HHMMSS` in ElastiCache's 40 characters, and a keep count of at
 * least one. Returns the prefix and keep count to use.
 */
export function checkSnapshotBeforeUpdate(options: SnapshotBeforeUpdateOptions, groupId: string, nodeType: string, clustered: boolean):
{ prefix: string; keep: number } {
  if (Token.isUnresolved(groupId)) {
    throw new Error('backup.snapshotBeforeUpdate is set but replicationGroupId is a token; the snapshot runs before the group is updated, so it cannot refer to the group and needs its id at synth time');
  }
  if (cannotSnapshot(nodeType, clustered)) {
    throw new Error("backup.snapshotBeforeUpdate is set but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault)");
  }
  const prefix = options.prefix ?? `pre-${groupId}`.slice(0, MAX_PRE_UPDATE_PREFIX_LENGTH).replace(/-+$/, '');
  checkName('backup.snapshotBeforeUpdate.prefix', prefix, MAX_PRE_UPDATE_PREFIX_LENGTH, '-YYYYMMDD-HHMMSS');
  const keep = options.keep ?? DEFAULT_PRE_UPDATE_KEEP;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new Error(`backup.snapshotBeforeUpdate.keep is ${keep}; keep at least 1 snapshot (a whole number)`);
  }
  return { prefix, keep };
}
