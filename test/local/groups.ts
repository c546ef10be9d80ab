/**
 * Replication groups for the tests that run against the local provider.
 */
import { CreateReplicationGroupCommand, ElastiCacheClient, ReplicationGroup } from '@aws-sdk/client-elasticache';
import { groupAvailable } from '../../local/waiters';

/**
 * Creates a group of two cache.r7g.large nodes (a primary and a replica), with automatic failover
 * unless `automaticFailover` is false, and waits until it is available.
 */
export async function createGroup(ec: ElastiCacheClient, id: string, automaticFailover = true): Promise<ReplicationGroup> {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id,
    ReplicationGroupDescription: id,
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 2,
    ...(automaticFailover ? { AutomaticFailoverEnabled: true } : {}),
  }));
  return groupAvailable(ec, id);
}
