import { Token } from 'aws-cdk-lib';
import { groupFactsOf, knownMembers } from './group-facts';
import { firstReplicaMemberId, primaryMemberId } from './members';
import { BackupSource, BackupSourceKind } from '../backup';
import { ClusterMode, IRedisReplicationGroup } from '../replication-group-base';

/**
 * The member a manual snapshot is taken from (`CacheClusterId`), or undefined for a group-level
 * snapshot. `prop` names the property in errors.
 *
 * A group defined in this app is checked against the members it has (its public id is a Ref
 * token, so its recorded facts are used); an imported group only by the id prefix.
 */
export function snapshotSourceMember(group: IRedisReplicationGroup, source: BackupSource | undefined, prop: string): string | undefined {
  if (!source) {
    return undefined;
  }
  if (group.clusterMode === ClusterMode.ENABLED) {
    throw new Error(`${prop} is given but the replication group has cluster mode enabled; ElastiCache snapshots such groups at group level only`);
  }
  const facts = groupFactsOf(group);
  switch (source.kind) {
    case BackupSourceKind.PRIMARY:
      return primaryMemberId(group.replicationGroupId, false);
    case BackupSourceKind.REPLICA:
      if (facts && facts.replicasPerShard === 0) {
        throw new Error(`${prop} is BackupSource.replica() but replication group ${group.node.path} has no replicas (replicasPerShard is 0); use BackupSource.primary() or add a replica`);
      }
      return firstReplicaMemberId(group.replicationGroupId, false);
    default: {
      const member = source.cacheClusterId!;
      if (Token.isUnresolved(member)) {
        return member;
      }
      if (facts) {
        const members = knownMembers(facts);
        if (members && !members.includes(member)) {
          throw new Error(`${prop} member '${member}' is not a member of replication group '${facts.groupId}' (${group.node.path}), whose members are ${members.join(', ')}`);
        }
      } else if (!Token.isUnresolved(group.replicationGroupId) && !member.startsWith(`${group.replicationGroupId}-`)) {
        throw new Error(`${prop} member '${member}' is not a member of replication group '${group.replicationGroupId}'`);
      }
      return member;
    }
  }
}
