/**
 * The contract between `StandbyRestore`'s state machine and its Lambda steps
 * (lambda/handlers/standby-restore.ts and lambda/handlers/standby-check.ts): what each step is given
 * and what it returns. Shared so that both ends are type-checked against one definition.
 */
import { ExportManifest } from './export-workflow-contract';

/** The run's modes: `failover` moves DNS to the standby; `rehearsal` checks it, records, deletes it. */
export type RunMode = 'failover' | 'rehearsal';
export const RESTORE_MODES: RunMode[] = ['failover', 'rehearsal'];

/** What the construct fixes at synth time about the standby it creates (each absent: from the manifest). */
export interface StandbyShape {
  /** The standby's port (the construct's security group rules are made for it). */
  readonly port: number;
  readonly cacheNodeType?: string;
  readonly replicasPerShard?: number;
  readonly cacheParameterGroupName?: string;
  readonly cacheSubnetGroupName: string;
  readonly securityGroupIds: string[];
  readonly transitEncryption: boolean;
  /** The ARN of a secret whose SecretString is the standby's AUTH token; absent: no AUTH. */
  readonly authTokenSecretArn?: string;
  readonly snapshotRetentionLimit: number;
  readonly snapshotWindow?: string;
  readonly preferredMaintenanceWindow?: string;
  readonly multiAz: boolean;
}

/**
 * `findExport`: the newest export in the replica bucket whose manifest and every RDB object are
 * there with the manifest's sizes (or the named run, which must be complete), and the standby's id.
 */
export interface FindExportInput {
  readonly step: 'findExport';
  /** The run's input, as given: checked here. */
  readonly request: { readonly mode?: unknown; readonly runName?: unknown; readonly force?: unknown };
  /** The record a failover moves: a failover is refused while it already points at one of this workflow's standbys. */
  readonly record: { readonly hostedZoneId: string; readonly recordName: string };
  readonly bucket: string;
  /** The export workflow's snapshot prefix: only `<prefix>-YYYYMMDD-HHMMSS` runs are considered. */
  readonly exportPrefix: string;
  /** The standby's id is `<standbyPrefix>-<yymmdd-hhmmss of the run's start>`. */
  readonly standbyPrefix: string;
  /** `$$.Execution.StartTime`. */
  readonly startTime: string;
}

/** An export passed over, and why. */
export interface SkippedExport {
  readonly runName: string;
  readonly reason: string;
}

export interface FindExportOutput {
  readonly mode: RunMode;
  readonly runName: string;
  readonly snapshotTime: string;
  readonly manifest: ExportManifest;
  /** The RDB objects as seeding ARNs, in shard order. */
  readonly objectArns: string[];
  /** Newer exports that were incomplete, newest first. */
  readonly skipped: SkippedExport[];
  readonly standbyId: string;
}

/** `createStandby`: lets ElastiCache read the RDB objects, then creates the seeded group. */
export interface CreateStandbyInput {
  readonly step: 'createStandby';
  readonly bucket: string;
  /** Whether ElastiCache reads the bucket through object ACLs (then each object is granted READ). */
  readonly grantObjectRead: boolean;
  readonly found: FindExportOutput;
  readonly shape: StandbyShape;
  /** Tags for the standby, so it is known as this workflow's. */
  readonly workflow: string;
  /** `$$.Execution.Name`: a retried step knows its own standby by it (two runs in one second do not share one). */
  readonly executionName: string;
}

export interface CreateStandbyOutput {
  readonly replicationGroupId: string;
  readonly clusterMode: 'enabled' | 'disabled';
  readonly shards: number;
  /** Checks of its status made so far. */
  readonly checks: number;
}

/** `checkStandby` (a function in the VPC): connects as applications do and proves the data. */
/** The part of `DescribeReplicationGroups`' answer the check reads (as the state machine's AWS SDK task returns it). */
export interface DescribedStandby {
  readonly Status?: string;
  readonly ClusterEnabled?: boolean;
  readonly TransitEncryptionEnabled?: boolean;
  readonly ConfigurationEndpoint?: { readonly Address?: string; readonly Port?: number };
  readonly NodeGroups?: Array<{ readonly PrimaryEndpoint?: { readonly Address?: string; readonly Port?: number } }>;
}

export interface CheckStandbyInput {
  readonly step: 'checkStandby';
  readonly replicationGroupId: string;
  /**
   * The standby as the state machine's last DescribeReplicationGroups saw it: the check itself calls
   * no AWS API (but Secrets Manager, with an AUTH token), so it needs no ElastiCache endpoint in the VPC.
   */
  readonly group: DescribedStandby;
  readonly manifest: ExportManifest;
  readonly authTokenSecretArn?: string;
}

export interface CheckStandbyOutput {
  /** What applications connect to: the configuration endpoint in cluster mode, else the primary endpoint. */
  readonly endpoint: { readonly address: string; readonly port: number };
  readonly keys: number;
  /** The range the key count had to be in: the export's keys, less those with an expiry. */
  readonly expected: { readonly min: number; readonly max: number } | null;
  readonly sampleKeys: string[];
  readonly checkedAt: string;
}

/** `cutover`: UPSERTs the record to the standby's endpoint; the state machine waits for INSYNC. */
export interface CutoverInput {
  readonly step: 'cutover';
  readonly hostedZoneId: string;
  /** The record's name, fully qualified. */
  readonly recordName: string;
  readonly ttlSeconds: number;
  readonly target: string;
  readonly comment: string;
}

export interface CutoverOutput {
  readonly changeId: string;
  /**
   * What the record pointed at before (null: there was no such record, or it already pointed at the
   * standby: an earlier attempt of the step, retried, had moved it).
   */
  readonly oldTarget: string | null;
  readonly newTarget: string;
  /** Checks of the change's status made so far (0). */
  readonly checks: number;
}

/** `record`: the run's RPO and RTO, as CloudWatch metrics (embedded metric format) and the run's result. */
export interface RecordInput {
  readonly step: 'record';
  readonly workflow: string;
  readonly mode: RunMode;
  readonly startTime: string;
  /** `$$.State.EnteredTime` of the step: the run's end as Step Functions times it (DNS in sync, or the check passed). */
  readonly now: string;
  readonly snapshotTime: string;
  readonly runName: string;
  readonly standbyId: string;
}

export interface RecordOutput {
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  readonly recordedAt: string;
}

/** `recordFailure`: counts a failed run (by mode) as a CloudWatch metric. */
export interface RecordFailureInput {
  readonly step: 'recordFailure';
  readonly workflow: string;
  /** The run's input (`$$.Execution.Input`), whose `mode` is unchecked: a run with a bad mode fails too. */
  readonly request: { readonly mode?: unknown };
  readonly error: string;
}

export type RestoreStepInput = FindExportInput | CreateStandbyInput | CutoverInput | RecordInput | RecordFailureInput;

/** The CloudWatch namespace and metric names the workflow records. */
export const METRIC_NAMESPACE = 'CdkElastiCacheBackup/StandbyRestore';
export const METRICS = { rpo: 'RecoveryPointSeconds', rto: 'RecoveryTimeSeconds', failures: 'FailedRuns' } as const;

/** Error names the steps throw (the `Error` a Catch reports). */
export const INVALID_INPUT = 'InvalidInput';
export const NO_COMPLETE_EXPORT = 'NoCompleteExport';
export const EXPORT_NOT_USABLE = 'ExportNotUsable';
export const STANDBY_CHECK_FAILED = 'StandbyCheckFailed';
export const STANDBY_ALREADY_SERVING = 'StandbyAlreadyServing';
export const STANDBY_AUTH_MISMATCH = 'StandbyAuthMismatch';

/** The length of the stamp after the standby prefix: `-yymmdd-hhmmss`. */
export const STANDBY_STAMP_LENGTH = '-yymmdd-hhmmss'.length;
