import { Token } from 'aws-cdk-lib';
import { BackupSource, BackupSourceKind } from '../backup';
import { ClusterMode, IRedisReplicationGroup } from '../replication-group';

/**
 * The member a manual snapshot is taken from (`CacheClusterId`), or undefined for a group-level
 * snapshot. `prop` names the property in errors.
 */
export function snapshotSourceMember(group: IRedisReplicationGroup, source: BackupSource | undefined, prop: string): string | undefined {
  if (!source) {
    return undefined;
  }
  if (group.clusterMode === ClusterMode.ENABLED) {
    throw new Error(`${prop} is given but the replication group has cluster mode enabled; ElastiCache snapshots such groups at group level only`);
  }
  switch (source.kind) {
    case BackupSourceKind.PRIMARY:
      return `${group.replicationGroupId}-001`;
    case BackupSourceKind.REPLICA:
      return `${group.replicationGroupId}-002`;
    default:
      if (!Token.isUnresolved(source.cacheClusterId!) && !Token.isUnresolved(group.replicationGroupId)
        && !source.cacheClusterId!.startsWith(`${group.replicationGroupId}-`)) {
        throw new Error(`${prop} member '${source.cacheClusterId}' is not a member of replication group '${group.replicationGroupId}'`);
      }
      return source.cacheClusterId;
  }
}
