import { IConstruct } from 'constructs';
import { groupFactsOf } from '../group-facts';

/**
 * ElastiCache publishes ReplicationLag only for replicas (the user guide's metric list, "Metrics for
 * Valkey and Redis OSS", says it applies to a node running as a read replica; quoted from memory,
 * the page is not in the stored documentation). A group defined here with no replicas has no member
 * that reports it. Imported groups are not known and not checked.
 */
export function checkHasReplicas(group: IConstruct): void {
  const facts = groupFactsOf(group);
  if (facts && facts.replicasPerShard === 0) {
    throw new Error(`metricReplicationLag() is asked of replication group ${group.node.path}, which has no replicas (replicasPerShard is 0); ElastiCache publishes ReplicationLag only for replicas`);
  }
}
