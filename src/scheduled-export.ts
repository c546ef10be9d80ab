import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BackupSource } from './backup';
import { SnapshotExportBucket } from './export-bucket';
import { claimName, Namespace } from './private/app-registry';
import { elastiCacheArn } from './private/arns';
import { ManifestSourceSettings, RUN_STAMP_LENGTH } from './private/export-workflow-contract';
import { groupFactsOf } from './private/group-facts';
import { handlerFunctionProps } from './private/handler-code';
import { acknowledgeFinding, acknowledgeHandlerFunction, acknowledgeInlinePolicy, findingResource } from './private/nag';
import { checkName, MAX_SNAPSHOT_NAME_LENGTH, nameFromPath } from './private/names';
import { scheduleWindowProblems } from './private/schedule-windows';
import { snapshotSourceMember } from './private/source';
import { at, renderPayload, WorkflowStepPayload } from './private/step-payload';
import { describeWorkflow, failedRunsAlarm, humanDuration, logKey, publishRetry, sdkErrors, throttlingRetry, workflowStateMachine, workflowTopic } from './private/workflow';
import { RedisReplicationGroup } from './replication-group';
import { ClusterMode, IRedisReplicationGroup } from './replication-group-base';

/**
 * How long the workflow waits between checks of each operation. Each check is a few state
 * transitions (and, for the S3 checks, one Lambda invocation), so waits sized to the operation keep
 * a run cheap.
 */
export interface ExportWorkflowWaits {
  /**
   * Between checks of the snapshot's status (a snapshot takes minutes, more for large datasets).
   *
   * @default Duration.minutes(2)
   */
  readonly snapshot?: Duration;

  /**
   * Between checks for the exported objects in the export bucket.
   *
   * @default Duration.minutes(1)
   */
  readonly export?: Duration;

  /**
   * Between checks of the replica bucket (S3 replicates most objects within 15 minutes).
   *
   * @default Duration.minutes(5)
   */
  readonly replication?: Duration;
}

/**
 * How long the workflow keeps checking each operation before it fails the run with a named error
 * (and publishes it). Each bound is a number of checks: the bound divided by the wait between
 * checks, rounded up. Their sum, with the busy-group retries (1 hour 15 minutes), must fit in the
 * run's `timeout`, so that a stalled operation ends the run with its own error, not a timeout.
 *
 * Nothing is lost when a bound is reached: the run stops before pruning, and a later run prunes an
 * export only once its copy is verified in the replica bucket.
 */
export interface ExportWorkflowBounds {
  /**
   * How long the snapshot may stay `creating` before the run fails with `SnapshotIncomplete`.
   *
   * @default Duration.hours(2)
   */
  readonly snapshot?: Duration;

  /**
   * How long the exported objects may be missing from the export bucket before the run fails with
   * `ExportIncomplete`.
   *
   * @default Duration.hours(1)
   */
  readonly export?: Duration;

  /**
   * How long the replica bucket may lack a copy of the exported objects before the run fails with
   * `ReplicationIncomplete` (S3 replicates most objects within 15 minutes, some take hours; a copy
   * that arrives later is still found by the next run's pruning).
   *
   * @default Duration.minutes(90)
   */
  readonly replication?: Duration;
}

/**
 * Properties of a `ScheduledSnapshotExport`.
 */
export interface ScheduledSnapshotExportProps {
  /**
   * The replication group to back up.
   */
  readonly replicationGroup: IRedisReplicationGroup;

  /**
   * The bucket exports are written to. It must replicate to a replica bucket: pruning only ever
   * deletes what is verified in the replica.
   */
  readonly exportBucket: SnapshotExportBucket;

  /**
   * When the workflow runs (UTC). A cron schedule that starts runs inside the group's snapshot window
   * fails synth (the group is busy with its automatic backup then); one inside its maintenance window
   * is warned about. Checked for groups defined in this app; rate schedules are not checked.
   *
   * @default Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * The node snapshots are taken from. Only for cluster mode disabled.
   *
   * @default - the group's own backup source when the group is a `RedisReplicationGroup` with
   * backups on (a replica by default), else a group-level snapshot (ElastiCache picks a replica)
   */
  readonly source?: BackupSource;

  /**
   * The prefix of the workflow's snapshot and export names: `<prefix>-YYYYMMDD-HHMMSS`. Pruning only
   * touches names of this form, so the prefix must be unique to this workflow: two workflows of the
   * app with one prefix fail synth.
   *
   * @default - derived from the construct path (unique in the app)
   */
  readonly snapshotPrefix?: string;

  /**
   * How many of the workflow's runs (snapshot and export) are kept.
   *
   * @default 7
   */
  readonly keep?: number;

  /**
   * Runs older than this are pruned even within `keep`.
   *
   * @default - no age limit
   */
  readonly maxAge?: Duration;

  /**
   * Waits between checks.
   *
   * @default - see `ExportWorkflowWaits`
   */
  readonly waits?: ExportWorkflowWaits;

  /**
   * How long the workflow keeps checking each operation before it fails the run.
   *
   * @default - see `ExportWorkflowBounds`
   */
  readonly bounds?: ExportWorkflowBounds;

  /**
   * How long one run may take in all before it times out. It must hold the sum of `bounds` and the
   * busy-group retries (checked at synth time).
   *
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;

  /**
   * The topic failures are published to: runs that fail (from inside the workflow, with the error
   * and its cause) and runs that time out or are aborted (by an EventBridge rule on the run's
   * status). Both publish with an IAM role (`topic.grantPublish`), so a topic encrypted with a
   * customer managed KMS key works when its key policy lets the account's IAM policies grant use
   * of the key (the default key policy does).
   *
   * @default - a new topic, encrypted with the AWS managed key for SNS, TLS enforced
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * A customer managed KMS key for the workflow's three log groups (its execution history, its
   * Lambda step's logs, and the history of the notifier of timed-out and aborted runs). CloudWatch Logs must be allowed to use it: for a `kms.Key` of this app the
   * key policy statement is added; for an imported key, its policy must allow
   * `logs.<region>.amazonaws.com` (cdk-nag HIPAA Security and NIST 800-53 rev 5
   * `CloudWatchLogGroupEncrypted` ask for such a key).
   *
   * @default - encrypted at rest by CloudWatch Logs with keys it manages
   */
  readonly logEncryptionKey?: kms.IKey;
}

/** The error a run ends with when its snapshot is not available within `bounds.snapshot`. */
const SNAPSHOT_INCOMPLETE = 'SnapshotIncomplete';
type BoundName = keyof ExportWorkflowBounds;
const BOUND_NAMES: BoundName[] = ['snapshot', 'export', 'replication'];
const DEFAULT_KEEP = 7;
const DEFAULT_BOUNDS = { snapshot: Duration.hours(2), export: Duration.hours(1), replication: Duration.minutes(90) };
/** TakeSnapshot's retries of a busy group or member: 4 attempts from 5 minutes, backoff 2. */
const BUSY_RETRY = { interval: Duration.minutes(5), backoffRate: 2, maxAttempts: 4 };

/**
 * A scheduled workflow that backs a replication group up to S3 in two regions.
 *
 * A Step Functions state machine (JSONPath), started by an EventBridge schedule:
 * take a snapshot from the backup source → wait until it is `available` → export it with
 * `CopySnapshot` into the export bucket → verify one non-empty `<name>-000N.rdb` per shard → wait
 * until each is replicated to the replica bucket → prune the workflow's own snapshots and exports
 * beyond `keep` runs or `maxAge`, never one whose export is not verified in the replica.
 *
 * A busy group and throttling are retried with backoff; a quota exceeded, a failed snapshot or a
 * refused export fail the run with the cause, which is published to the notification topic.
 * `failureAlarm` watches failed, timed-out and aborted executions.
 */
export class ScheduledSnapshotExport extends Construct {
  /**
   * The state machine.
   */
  public readonly stateMachine: sfn.StateMachine;

  /**
   * The topic failures are published to.
   */
  public readonly notificationTopic: sns.ITopic;

  /**
   * An alarm that fires when a run fails, times out or is aborted.
   */
  public readonly failureAlarm: cloudwatch.Alarm;

  /**
   * The prefix of the workflow's snapshot and export names.
   */
  public readonly snapshotPrefix: string;

  private readonly exportBucket: SnapshotExportBucket;
  private stoppedRunNotifier?: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ScheduledSnapshotExportProps) {
    super(scope, id);
    const group = props.replicationGroup;
    const bucket = props.exportBucket;
    this.exportBucket = bucket;

    if (group instanceof RedisReplicationGroup && group.dataTiering) {
      throw new Error(`replicationGroup '${group.node.path}' runs on data tiering nodes (r6gd); ElastiCache cannot export snapshots of data tiering groups to S3`);
    }
    const replica = bucket.replica;
    if (!replica) {
      throw new Error('exportBucket has no replica; the workflow only prunes exports verified in a replica bucket in another region, so give the SnapshotExportBucket a replica');
    }
    const replicaRegion = Stack.of(replica).region;
    if (Token.isUnresolved(replicaRegion)) {
      throw new Error('exportBucket\'s replica is in a stack whose region is not known at synth time; the workflow checks the replica in its region, so give that stack an env with a region');
    }
    this.snapshotPrefix = props.snapshotPrefix ?? defaultPrefix(this);
    checkName('snapshotPrefix', this.snapshotPrefix, MAX_SNAPSHOT_NAME_LENGTH - RUN_STAMP_LENGTH, '-YYYYMMDD-HHMMSS');
    claimName({ namespace: Namespace.EXPORT_PREFIX, name: this.snapshotPrefix, scope: this, prop: 'snapshotPrefix', perEnvironment: false },
      'each workflow prunes the snapshots and exports named <prefix>-YYYYMMDD-HHMMSS, so two workflows with one prefix delete each other\'s backups: give each its own snapshotPrefix');
    const keep = props.keep ?? DEFAULT_KEEP;
    if (!Number.isInteger(keep) || keep < 1) {
      throw new Error(`keep is ${keep}; keep at least 1 run (a whole number)`);
    }
    const maxAgeDays = props.maxAge ? props.maxAge.toDays({ integral: false }) : 0;
    if (props.maxAge && (!Number.isInteger(maxAgeDays) || maxAgeDays < 1)) {
      throw new Error(`maxAge is ${props.maxAge.toHumanString()}; give whole days, at least 1`);
    }
    const member = snapshotSourceMember(group, props.source, 'source')
      ?? (!props.source && group instanceof RedisReplicationGroup ? group.snapshottingClusterId : undefined);
    const waits = {
      snapshot: props.waits?.snapshot ?? Duration.minutes(2),
      export: props.waits?.export ?? Duration.minutes(1),
      replication: props.waits?.replication ?? Duration.minutes(5),
    };
    for (const [name, d] of Object.entries(waits)) {
      if (!d.isUnresolved() && d.toSeconds() < 1) {
        throw new Error(`waits.${name} is ${d.toHumanString()}; waits are at least 1 second`);
      }
    }
    const timeout = props.timeout ?? Duration.hours(6);
    const schedule = props.schedule ?? events.Schedule.rate(Duration.days(1));
    this.checkScheduleWindows(schedule, group);
    const checks = this.checkBounds(waits, props.bounds, timeout);

    // ---- the Lambda steps ----------------------------------------------------------------
    const logEncryptionKey = logKey(this, props.logEncryptionKey);
    const fn = new lambda.Function(this, 'Steps', {
      ...handlerFunctionProps('export-workflow'),
      handler: 'index.exportWorkflowStep',
      timeout: Duration.minutes(1),
      description: 'cdk-elasticache-backup scheduled export: name, verify, check replica, prune',
      logGroup: new logs.LogGroup(this, 'StepLogs', { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: logEncryptionKey }),
    });
    // The workflow's own snapshots: the only ones it creates, reads, exports and deletes.
    const snapshotArns = elastiCacheArn(this, 'snapshot', `${this.snapshotPrefix}-*`);
    this.grantSteps(fn, bucket, snapshotArns);

    // ---- the state machine -----------------------------------------------------------------
    const memberArns = member ? [elastiCacheArn(this, 'cluster', member)] : [];

    const failed = new sfn.Fail(this, 'Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    this.notificationTopic = props.notificationTopic ?? this.newTopic();
    // A failure caught inside the workflow is published by the workflow itself: one message per
    // failed run, with the error, its cause and what the run knew.
    const notify = new tasks.SnsPublish(this, 'NotifyFailure', {
      topic: this.notificationTopic,
      subject: 'ElastiCache snapshot export failed',
      message: sfn.TaskInput.fromObject({
        'execution.$': '$$.Execution.Id',
        'replicationGroupId': group.replicationGroupId,
        'error.$': '$.error.Error',
        'cause.$': '$.error.Cause',
        // Everything the run knew (its snapshot name, once planned).
        'run.$': '$',
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    notify.addRetry(publishRetry());
    notify.next(failed);
    const onError = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.error' });
      return task;
    };

    // Payloads are typed by the step contract: a missing or misspelled key does not compile.
    const step = (stateName: string, payload: WorkflowStepPayload, resultPath: string) => onError(new tasks.LambdaInvoke(this, stateName, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(renderPayload(payload)),
      payloadResponseOnly: true,
      resultPath,
      retryOnServiceExceptions: true,
    }));

    const plan = step('Plan', { step: 'plan', prefix: this.snapshotPrefix, startTime: at('$$.Execution.StartTime') }, '$.plan');

    const takeSnapshot = onError(new tasks.CallAwsService(this, 'TakeSnapshot', {
      service: 'elasticache',
      action: 'createSnapshot',
      parameters: {
        ...(member ? { CacheClusterId: member } : { ReplicationGroupId: group.replicationGroupId }),
        'SnapshotName.$': '$.plan.snapshotName',
      },
      // CreateSnapshot is authorized on the group (or member) and on the snapshot it creates.
      iamResources: [group.replicationGroupArn, ...memberArns, snapshotArns],
      // The count of status checks starts here.
      resultSelector: { checks: 0 },
      resultPath: '$.snapshotWait',
    }));
    // A busy group (a backup or modification running) frees up within minutes: retry for an hour
    // and a quarter (5 + 10 + 20 + 40 minutes). Throttling clears in seconds.
    takeSnapshot.addRetry({
      errors: sdkErrors('ElastiCache', 'InvalidReplicationGroupState', 'InvalidCacheClusterState'),
      ...BUSY_RETRY,
    });
    takeSnapshot.addRetry(throttlingRetry());

    const waitSnapshot = new sfn.Wait(this, 'WaitForSnapshot', { time: sfn.WaitTime.duration(waits.snapshot) });
    const describeSnapshot = onError(new tasks.CallAwsService(this, 'DescribeSnapshot', {
      service: 'elasticache',
      action: 'describeSnapshots',
      parameters: { 'SnapshotName.$': '$.plan.snapshotName' },
      iamResources: [snapshotArns],
      resultSelector: {
        'status.$': '$.Snapshots[0].SnapshotStatus',
        'shards.$': 'States.ArrayLength($.Snapshots[0].NodeSnapshots)',
      },
      resultPath: '$.snapshot',
    }));
    describeSnapshot.addRetry(throttlingRetry());

    const snapshotFailed = new sfn.Pass(this, 'SnapshotFailed', {
      parameters: { 'Error': 'SnapshotFailed', 'Cause.$': "States.Format('Snapshot {} ended in status failed; the source node may lack reserved memory for the save', $.plan.snapshotName)" },
      resultPath: '$.error',
    });
    snapshotFailed.next(notify);
    const countSnapshotCheck = new sfn.Pass(this, 'CountSnapshotCheck', {
      parameters: { 'checks.$': 'States.MathAdd($.snapshotWait.checks, 1)' },
      resultPath: '$.snapshotWait',
    });
    const snapshotIncomplete = new sfn.Pass(this, 'SnapshotIncomplete', {
      parameters: {
        'Error': SNAPSHOT_INCOMPLETE,
        'Cause.$': `States.Format('Snapshot {} is still {} after ${checks.snapshot} checks (${humanDuration(waits.snapshot, checks.snapshot)}); it was not exported and nothing was pruned', $.plan.snapshotName, $.snapshot.status)`,
      },
      resultPath: '$.error',
    });
    snapshotIncomplete.next(notify);

    const exportSnapshot = onError(new tasks.CallAwsService(this, 'ExportSnapshot', {
      service: 'elasticache',
      action: 'copySnapshot',
      parameters: {
        'SourceSnapshotName.$': '$.plan.snapshotName',
        'TargetSnapshotName.$': '$.plan.snapshotName',
        'TargetBucket': bucket.bucketName,
      },
      iamResources: [snapshotArns],
      resultPath: sfn.JsonPath.DISCARD,
    }));
    exportSnapshot.addRetry(throttlingRetry());

    const initChecks = new sfn.Pass(this, 'StartChecks', { result: sfn.Result.fromObject({ checks: 0 }), resultPath: '$.export' });
    const waitExport = new sfn.Wait(this, 'WaitForExport', { time: sfn.WaitTime.duration(waits.export) });
    const verifyExport = step('VerifyExport', {
      step: 'verifyExport',
      bucket: bucket.bucketName,
      snapshotName: at('$.plan.snapshotName'),
      shards: at('$.snapshot.shards'),
      checks: at('$.export.checks'),
      maxChecks: checks.export,
      source: manifestSource(group),
    }, '$.export');

    const startReplicaChecks = new sfn.Pass(this, 'StartReplicaChecks', { result: sfn.Result.fromObject({ checks: 0 }), resultPath: '$.replica' });
    const waitReplica = new sfn.Wait(this, 'WaitForReplica', { time: sfn.WaitTime.duration(waits.replication) });
    const checkReplica = step('CheckReplica', {
      step: 'checkReplica',
      bucket: bucket.bucketName,
      replicaBucket: replica.bucketName,
      replicaRegion: replicaRegion,
      objects: at('$.export.objects'),
      checks: at('$.replica.checks'),
      maxChecks: checks.replication,
    }, '$.replica');

    const pruneStep = step('Prune', {
      step: 'prune',
      replicationGroupId: group.replicationGroupId,
      prefix: this.snapshotPrefix,
      bucket: bucket.bucketName,
      replicaBucket: replica.bucketName,
      replicaRegion: replicaRegion,
      current: at('$.plan.snapshotName'),
      keep: keep,
      maxAgeDays: maxAgeDays,
      now: at('$$.Execution.StartTime'),
    }, '$.prune');
    const done = new sfn.Succeed(this, 'Done');

    const definition = plan
      .next(takeSnapshot)
      .next(waitSnapshot)
      .next(describeSnapshot)
      .next(countSnapshotCheck)
      .next(new sfn.Choice(this, 'SnapshotAvailable?')
        .when(sfn.Condition.stringEquals('$.snapshot.status', 'available'), exportSnapshot
          .next(initChecks)
          .next(waitExport)
          .next(verifyExport)
          .next(new sfn.Choice(this, 'Exported?')
            .when(sfn.Condition.booleanEquals('$.export.ready', true), startReplicaChecks
              .next(waitReplica)
              .next(checkReplica)
              .next(new sfn.Choice(this, 'Replicated?')
                .when(sfn.Condition.booleanEquals('$.replica.replicated', true), pruneStep.next(done))
                .otherwise(waitReplica)))
            .otherwise(waitExport)))
        .when(sfn.Condition.stringEquals('$.snapshot.status', 'failed'), snapshotFailed)
        .when(sfn.Condition.numberGreaterThanEquals('$.snapshotWait.checks', checks.snapshot), snapshotIncomplete)
        .otherwise(waitSnapshot));

    this.stateMachine = workflowStateMachine(this, 'StateMachine', 'Logs', definition, timeout, logEncryptionKey);
    describeWorkflow(this.stateMachine, {
      kind: 'scheduled-export',
      replicationGroupId: group.replicationGroupId,
      snapshotPrefix: this.snapshotPrefix,
      keep,
      exportBucket: bucket.bucketName,
      replicaBucket: replica.bucketName,
      replicaRegion,
    });

    // CopySnapshot's caller also needs to see the bucket (GetBucketLocation, ListAllMyBuckets).
    bucket.grantExport(this.stateMachine);
    // Publishing failures: sns:Publish, and the use of the topic's KMS key when it has a customer
    // managed one (the SnsPublish task alone grants only sns:Publish).
    this.notificationTopic.grantPublish(this.stateMachine);
    this.notifyStoppedRuns(group.replicationGroupId, logEncryptionKey);

    new events.Rule(this, 'Schedule', {
      schedule,
      description: `Backs up and exports ElastiCache replication group ${group.replicationGroupId}`,
      targets: [new targets.SfnStateMachine(this.stateMachine)],
    });

    this.failureAlarm = failedRunsAlarm(this, this.stateMachine, `A scheduled snapshot export of ${group.replicationGroupId} failed, timed out or was aborted`);

    this.acknowledgeFindings(fn, snapshotArns, replica);
  }

  /**
   * A cron schedule that starts runs inside the group's snapshot window is refused, one inside its
   * maintenance window warned about (see schedule-windows.ts for why). Only groups defined in this
   * app have known windows; rate schedules and tokens are not checked.
   */
  private checkScheduleWindows(schedule: events.Schedule, group: IRedisReplicationGroup): void {
    const facts = groupFactsOf(group);
    if (!facts) {
      return;
    }
    for (const problem of scheduleWindowProblems(schedule.expressionString, group.node.path, facts)) {
      if (problem.error) {
        throw new Error(problem.message);
      }
      Annotations.of(this).addWarningV2('cdk-elasticache-backup:scheduleInMaintenanceWindow', problem.message);
    }
  }

  /**
   * Checks each bound against its wait and their sum against the run's timeout; returns how many
   * checks each bound allows.
   */
  private checkBounds(waits: Record<BoundName, Duration>, given: ExportWorkflowBounds | undefined, timeout: Duration): Record<BoundName, number> {
    const checks = {} as Record<BoundName, number>;
    for (const name of BOUND_NAMES) {
      const bound = given?.[name] ?? DEFAULT_BOUNDS[name];
      const wait = waits[name];
      if (bound.toSeconds() < wait.toSeconds()) {
        throw new Error(`bounds.${name} is ${bound.toHumanString()}, shorter than waits.${name} (${wait.toHumanString()}); a bound holds at least one wait`);
      }
      checks[name] = Math.ceil(bound.toSeconds() / wait.toSeconds());
    }
    const busy = Array.from({ length: BUSY_RETRY.maxAttempts }, (_, i) => BUSY_RETRY.interval.toSeconds() * BUSY_RETRY.backoffRate ** i)
      .reduce((a, b) => a + b, 0);
    const parts: Array<[string, number]> = [
      ['busy group retries', busy],
      ['snapshot', waits.snapshot.toSeconds() * checks.snapshot],
      ['export', waits.export.toSeconds() * checks.export],
      ['replica', waits.replication.toSeconds() * checks.replication],
    ];
    const total = parts.reduce((a, [, seconds]) => a + seconds, 0);
    if (timeout.toSeconds() < total) {
      throw new Error(`timeout is ${timeout.toHumanString()} but the workflow's waits can take up to ${Duration.seconds(total).toHumanString()} `
        + `(${parts.map(([name, seconds]) => `${name} ${Duration.seconds(seconds).toHumanString()}`).join(', ')}); give a longer timeout or shorter bounds`);
    }
    return checks;
  }

  /**
   * A run that times out or is aborted stops where it is, without passing through the workflow's
   * own failure handling, so it publishes nothing itself. Step Functions sends every status change
   * of a Standard workflow's runs to EventBridge ("Step Functions Execution Status Change", Step
   * Functions developer guide, "Automating Step Functions event delivery with EventBridge"); a rule
   * on TIMED_OUT and ABORTED starts a one-step state machine that publishes the run. FAILED is left
   * out: a failed run has published its error from inside, and is published once.
   *
   * The publisher is a state machine, not the rule's own SNS target, because an EventBridge SNS
   * target is authorized by the topic's resource policy and its KMS key policy: a topic encrypted
   * with the AWS managed key for SNS (this construct's default) cannot allow EventBridge, and an
   * imported topic or key cannot be given the statements (AWS re:Post knowledge center,
   * "sns-not-getting-eventbridge-notification"). A state machine publishes with its IAM role, as
   * the workflow does, so every topic the workflow can publish to works for both.
   */
  private notifyStoppedRuns(groupId: string, logEncryptionKey: kms.IKey | undefined): void {
    const publish = new tasks.SnsPublish(this, 'NotifyStoppedRun', {
      topic: this.notificationTopic,
      subject: 'ElastiCache snapshot export timed out or was aborted',
      message: sfn.TaskInput.fromObject({
        'execution.$': '$.execution',
        'replicationGroupId': groupId,
        'error.$': '$.status',
        'cause': 'The run stopped before it finished: TIMED_OUT when it outlasted its timeout, ABORTED when it was stopped. '
          + 'Its snapshot may not be exported or replicated; pruning only ever deletes exports verified in the replica bucket.',
        'startDate.$': '$.startDate',
        'stopDate.$': '$.stopDate',
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    publish.addRetry(publishRetry());
    const notifier = workflowStateMachine(this, 'StoppedRunNotifier', 'StoppedRunNotifierLogs', publish, Duration.minutes(5), logEncryptionKey);
    // sns:Publish, and the topic's KMS key when it has a customer managed one.
    this.notificationTopic.grantPublish(notifier);
    this.stoppedRunNotifier = notifier;

    new events.Rule(this, 'StoppedRuns', {
      description: `Publishes runs of the ElastiCache export workflow of ${groupId} that time out or are aborted`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['TIMED_OUT', 'ABORTED'], stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
      targets: [new targets.SfnStateMachine(notifier, {
        input: events.RuleTargetInput.fromObject({
          execution: events.EventField.fromPath('$.detail.executionArn'),
          status: events.EventField.fromPath('$.detail.status'),
          startDate: events.EventField.fromPath('$.detail.startDate'),
          stopDate: events.EventField.fromPath('$.detail.stopDate'),
        }),
      })],
    });
  }

  private newTopic(): sns.Topic {
    return workflowTopic(this, 'ElastiCache snapshot export failures');
  }

  /** What the Lambda steps need: read and prune the workflow's own snapshots and exports, read the replica. */
  private grantSteps(fn: lambda.Function, bucket: SnapshotExportBucket, snapshotArns: string): void {
    const own = `${this.snapshotPrefix}-*`;
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Pruning deletes only the workflow's own snapshots.
      actions: ['elasticache:DeleteSnapshot'],
      resources: [snapshotArns],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Listing the group's manual snapshots (DescribeSnapshots filtered by replication group) is
      // a listing: it is not authorized on one snapshot ARN, so its resource is `*`.
      actions: ['elasticache:DescribeSnapshots'],
      resources: ['*'],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Listing the workflow's exports.
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${this.snapshotPrefix}-*`] } },
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Verifying (HeadObject) and pruning the workflow's own exports, and writing each run's
      // manifest (`<name>.manifest.json`) next to them.
      actions: ['s3:GetObject', 's3:DeleteObject', 's3:PutObject'],
      resources: [bucket.bucket.arnForObjects(own)],
    }));
    const replica = bucket.replica!;
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Checking the copies in the replica bucket (HeadObject; ListBucket makes a missing key a 404).
      actions: ['s3:GetObject', 's3:ListBucket'],
      resources: [replica.bucket.arnForObjects(own), replica.bucketArn],
    }));
  }

  /**
   * The wildcard resources of the workflow's two roles, each acknowledged with the API reason on
   * the policy that holds it. Everything else (`*` for listings and for log and trace delivery)
   * is named where it is granted.
   */
  private acknowledgeFindings(fn: lambda.Function, snapshotArns: string, replica: SnapshotExportBucket['replica'] & {}): void {
    const stack = Stack.of(this);
    const own = `${this.snapshotPrefix}-*`;
    const iam5 = (scope: Construct | undefined, resource: string, reason: string) => {
      if (scope) acknowledgeFinding(scope, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
    };
    const ownSnapshots = `The workflow's own snapshots, named ${own}: a new name every run, so the resource is the name pattern.`;
    const stepsPolicy = fn.role?.node.tryFindChild('DefaultPolicy');
    const machinePolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    iam5(stepsPolicy, findingResource(stack, snapshotArns), ownSnapshots);
    iam5(machinePolicy, findingResource(stack, snapshotArns), ownSnapshots);
    iam5(stepsPolicy, '*', 'elasticache:DescribeSnapshots filtered by replication group is a listing, which is not authorized on a snapshot ARN.');
    iam5(stepsPolicy, findingResource(stack, this.exportBucket.bucket.arnForObjects(own)), `The workflow's own exports in the export bucket (keys ${own}), verified and pruned by name pattern.`);
    iam5(stepsPolicy, findingResource(stack, replica.bucket.arnForObjects(own)), `The replicas of the workflow's own exports (keys ${own}), read to verify replication.`);
    iam5(machinePolicy, '*', 'Three grants take no resource-level permission: s3:ListAllMyBuckets (which CopySnapshot requires of its caller), the CloudWatch Logs delivery actions of execution logging, and the X-Ray trace actions.');
    iam5(this.stoppedRunNotifier?.role.node.tryFindChild('DefaultPolicy'), '*',
      'Two grants take no resource-level permission: the CloudWatch Logs delivery actions of execution logging, and the X-Ray trace actions.');
    iam5(machinePolicy, `<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*`,
      'lambda:InvokeFunction on the versions and aliases (`<arn>:*`) of the workflow\'s own step function, as aws-cdk-lib grants it for LambdaInvoke.');
    acknowledgeFinding(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWSLambdaBasicExecutionRole only lets the function write its logs to CloudWatch Logs.');

    // HIPAA Security and NIST 800-53 rev 5 (the same rules in both).
    acknowledgeHandlerFunction(fn, {
      invokedBy: 'the workflow\'s state machine, synchronously (Lambda tasks that catch its errors and notify them)',
      calls: 'ElastiCache and S3',
      concurrency: 'one step at a time in each run of the workflow',
    });
    acknowledgeInlinePolicy(this.stateMachine.role);
    const eventsRole = this.stateMachine.node.tryFindChild('EventsRole');
    if (eventsRole) acknowledgeInlinePolicy(eventsRole);
    if (this.stoppedRunNotifier) {
      acknowledgeInlinePolicy(this.stoppedRunNotifier.role);
      const notifierEventsRole = this.stoppedRunNotifier.node.tryFindChild('EventsRole');
      if (notifierEventsRole) acknowledgeInlinePolicy(notifierEventsRole);
    }
  }
}

/** What the construct knows of the group that its snapshot does not say, for each run's manifest. */
function manifestSource(group: IRedisReplicationGroup): ManifestSourceSettings {
  const known = group instanceof RedisReplicationGroup ? group : undefined;
  return {
    replicationGroupId: group.replicationGroupId,
    region: Stack.of(group).region,
    clusterMode: group.clusterMode === ClusterMode.ENABLED ? 'enabled' : 'disabled',
    replicasPerShard: known?.replicasPerShard,
    port: known?.port,
    authToken: known ? known.secret !== undefined : undefined,
  };
}

/** A snapshot name prefix from the construct path: unique in the app, valid, short enough for the run stamp. */
function defaultPrefix(scope: Construct): string {
  const max = MAX_SNAPSHOT_NAME_LENGTH - RUN_STAMP_LENGTH;
  const unique = nameFromPath(scope, max);
  return (/^[a-z]/.test(unique) ? unique : `x-${unique}`).slice(0, max).replace(/-+$/, '');
}
