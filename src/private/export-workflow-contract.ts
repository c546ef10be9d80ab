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

/**
 * `verifyExport`: is there one non-empty `<name>-000N.rdb` per shard in the export bucket? Once
 * there is, it writes the run's manifest (`<name>.manifest.json`) next to them.
 */
export interface VerifyExportInput {
  readonly step: 'verifyExport';
  readonly bucket: string;
  readonly snapshotName: string;
  readonly shards: number;
  /** Checks made so far (0 on the first). */
  readonly checks: number;
  /** Checks after which a missing export fails the run. */
  readonly maxChecks: number;
  /** What the workflow knows of the group beyond its snapshot, for the manifest. */
  readonly source: ManifestSourceSettings;
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

/**
 * The group's settings the construct knows at synth time that a snapshot does not carry (all
 * optional: an imported group's are not known).
 */
export interface ManifestSourceSettings {
  readonly replicationGroupId: string;
  readonly region: string;
  readonly clusterMode?: 'enabled' | 'disabled';
  readonly replicasPerShard?: number;
  readonly port?: number;
  readonly transitEncryption?: boolean;
  /** Whether clients authenticate with an AUTH token (a restored group needs one of its own). */
  readonly authToken?: boolean;
}

/** One shard of an export: its node group, its slots (cluster mode enabled) and its RDB object. */
export interface ManifestShard {
  readonly nodeGroupId: string;
  /** e.g. `0-5460`; absent with cluster mode disabled. */
  readonly slots?: string;
  readonly object: ExportedObject;
  /**
   * The keys in database 0 when the snapshot was taken, as the RDB file's header records them (its
   * RESIZEDB record); absent when the header could not be read.
   */
  readonly keys?: number;
  /** Of `keys`, those with an expiry: they may be gone by the time the data is restored. */
  readonly expires?: number;
  /**
   * The first key the RDB file holds (absent when it could not be read from the header, or it
   * expires): a restore proves the restored data is this export's by finding it.
   */
  readonly sampleKey?: string;
}

/**
 * `<run name>.manifest.json`, written by the export workflow next to the RDB objects once they are
 * verified, and replicated with them: what a restore needs to know to rebuild the group from them.
 */
export interface ExportManifest {
  readonly manifestVersion: 1;
  /** The run's name: its snapshot's name, and the stem of its objects' keys. */
  readonly runName: string;
  /**
   * When the data was taken (ISO 8601): the latest `SnapshotCreateTime` of the snapshot's node
   * snapshots. A restore from this export loses what was written after it.
   */
  readonly snapshotTime: string;
  /** When the manifest was written (ISO 8601). */
  readonly writtenAt: string;
  readonly source: ManifestSourceSettings & {
    readonly engine: string;
    readonly engineVersion: string;
    readonly cacheNodeType: string;
    /** The snapshot's parameter group, when ElastiCache reports it. */
    readonly cacheParameterGroupName?: string;
    /** The parameter group family of the engine version (e.g. `redis7`), for a new parameter group. */
    readonly parameterGroupFamily?: string;
    readonly dataTiering?: boolean;
  };
  /** One per shard, in node group order; `objects` holds the same RDB objects. */
  readonly shards: ManifestShard[];
  readonly objects: ExportedObject[];
  /**
   * The number of keys in database 0 of the group when the snapshot was taken: the sum of the
   * shards' `keys`, read from each RDB file's header (ElastiCache's snapshot does not report a key
   * count). Absent when a header could not be read, or a file's first database is not 0 (keys in
   * other databases are not counted there; cluster mode has only database 0).
   */
  readonly keyCount?: number;
}

/** The manifest's key for a run. */
export function manifestKey(runName: string): string {
  return `${runName}.manifest.json`;
}

export type WorkflowStepInput = PlanInput | VerifyExportInput | CheckReplicaInput | PruneInput;

/** Error names the steps throw (the `Error` a Retry or Catch matches). */
export const EXPORT_INCOMPLETE = 'ExportIncomplete';
export const EXPORT_EMPTY = 'ExportEmpty';
export const REPLICATION_FAILED = 'ReplicationFailed';
export const REPLICATION_INCOMPLETE = 'ReplicationIncomplete';
