/**
 * The contract between `ScheduledSnapshotExport`'s state machine and its Lambda steps
 * (lambda/handlers/export-workflow.ts): what each step is given and what it returns. Shared so that
 * both ends are type-checked against one definition.
 */

/** Snapshot names the workflow makes: `<prefix>-YYYYMMDD-HHMMSS` (UTC start time of the run). */
export const RUN_STAMP_LENGTH = '-yyyymmdd-hhmmss'.length;

/** `plan`: names the run's snapshot (and export) after the execution's start time. */
export interface PlanInput {
  readonly step: 'plan';
  readonly prefix: string;
  /** `$$.Execution.StartTime`, an ISO 8601 timestamp. */
  readonly startTime: string;
}
export interface PlanOutput {
  readonly snapshotName: string;
}

/** One exported RDB object, as verified. */
export interface ExportedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** `verifyExport`: is there one non-empty `<name>-000N.rdb` per shard in the export bucket? */
export interface VerifyExportInput {
  readonly step: 'verifyExport';
  readonly bucket: string;
  readonly snapshotName: string;
  readonly shards: number;
  /** Checks made so far (0 on the first). */
  readonly checks: number;
  /** Checks after which a missing export fails the run. */
  readonly maxChecks: number;
}
export interface VerifyExportOutput {
  readonly ready: boolean;
  readonly checks: number;
  readonly objects: ExportedObject[];
}

/** `checkReplica`: is every exported object in the replica bucket, with the same size and ETag? */
export interface CheckReplicaInput {
  readonly step: 'checkReplica';
  readonly bucket: string;
  readonly replicaBucket: string;
  readonly replicaRegion: string;
  readonly objects: ExportedObject[];
  readonly checks: number;
  readonly maxChecks: number;
}
export interface CheckReplicaOutput {
  readonly replicated: boolean;
  readonly checks: number;
}

/**
 * `prune`: deletes the workflow's snapshots and exports beyond `keep` newest or older than
 * `maxAgeDays`, only those whose every export object is verified in the replica bucket.
 */
export interface PruneInput {
  readonly step: 'prune';
  readonly replicationGroupId: string;
  readonly prefix: string;
  readonly bucket: string;
  readonly replicaBucket: string;
  readonly replicaRegion: string;
  /** The run's own snapshot: never pruned. */
  readonly current: string;
  readonly keep: number;
  /** 0: no age limit. */
  readonly maxAgeDays: number;
  /** `$$.Execution.StartTime`: ages are counted from it. */
  readonly now: string;
}
export interface PruneOutput {
  /** Runs (snapshot names) whose snapshot and exports were deleted. */
  readonly pruned: string[];
  /**
   * Runs past the limits that were kept: their exports are not verified in the replica, or their
   * snapshot is busy (being copied or deleted). The next run looks at them again.
   */
  readonly kept: string[];
}

export type WorkflowStepInput = PlanInput | VerifyExportInput | CheckReplicaInput | PruneInput;

/** Error names the steps throw (the `Error` a Retry or Catch matches). */
export const EXPORT_INCOMPLETE = 'ExportIncomplete';
export const EXPORT_EMPTY = 'ExportEmpty';
export const REPLICATION_FAILED = 'ReplicationFailed';
export const REPLICATION_INCOMPLETE = 'ReplicationIncomplete';
