/**
 * The contract between `RedisReplicationGroup` (backup.finalSnapshotName) and the final snapshot
 * handler (lambda/handlers/final-snapshot.ts).
 */
export interface FinalSnapshotResourceProperties {
  /** The replication group this resource deletes, with a final snapshot, when the group leaves the stack. */
  readonly ReplicationGroupId: string;
  /** The name of the final snapshot. */
  readonly FinalSnapshotName: string;
  /**
   * The logical id of the group's `AWS::ElastiCache::ReplicationGroup` in the same stack: the handler
   * asks CloudFormation whether that resource is still in the stack, and which group it now is,
   * before it deletes anything. Absent in resources deployed before the library recorded it: then
   * only a stack deletion deletes the group.
   */
  readonly ReplicationGroupLogicalId?: string;
}
