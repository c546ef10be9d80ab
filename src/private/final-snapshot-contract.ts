/**
 * The contract between `RedisReplicationGroup` (backup.finalSnapshotName) and the final snapshot
 * handler (lambda/handlers/final-snapshot.ts).
 */
export interface FinalSnapshotResourceProperties {
  /** The replication group this resource deletes, with a final snapshot, when it is deleted. */
  readonly ReplicationGroupId: string;
  /** The name of the final snapshot. */
  readonly FinalSnapshotName: string;
}
