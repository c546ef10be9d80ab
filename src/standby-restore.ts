import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ElastiCacheBucketAccess, SnapshotReplicaBucket } from './export-bucket';
import { claimName, Namespace } from './private/app-registry';
import { elastiCacheArn } from './private/arns';
import { RUN_STAMP_LENGTH } from './private/export-workflow-contract';
import { handlerFunctionProps } from './private/handler-code';
import { acknowledgeFinding, acknowledgeHandlerFunction, acknowledgeInlinePolicy, findingResource } from './private/nag';
import { checkName, MAX_GROUP_ID_LENGTH, MAX_SNAPSHOT_NAME_LENGTH, nameFromPath } from './private/names';
import { checkPort } from './private/rules/network';
import { checkNodeType } from './private/rules/node-type';
import {
  CheckStandbyInput, METRIC_NAMESPACE, METRICS, RestoreStepInput, STANDBY_STAMP_LENGTH, StandbyShape,
} from './private/standby-restore-contract';
import { at, renderPayload, StepPayload } from './private/step-payload';
import { describeWorkflow, failedRunsAlarm, humanDuration, logKey, publishRetry, sdkErrors, throttlingRetry, workflowStateMachine, workflowTopic } from './private/workflow';

/** How long the workflow waits between checks. */
export interface StandbyRestoreWaits {
  /**
   * Between checks of the standby's status while ElastiCache creates it and loads the data (a
   * restore takes from about ten minutes to an hour and more for large datasets).
   *
   * @default Duration.minutes(5)
   */
  readonly create?: Duration;

  /**
   * Between checks of the Route 53 change (`GetChange`), which is usually `INSYNC` within 60 seconds.
   *
   * @default Duration.seconds(20)
   */
  readonly dns?: Duration;
}

/** How long the workflow keeps checking before it fails the run with a named error. */
export interface StandbyRestoreBounds {
  /**
   * How long the standby may stay `creating` before the run fails with `StandbyIncomplete`.
   *
   * @default Duration.hours(3)
   */
  readonly create?: Duration;

  /**
   * How long the Route 53 change may stay `PENDING` before the run fails with `DnsChangeIncomplete`.
   *
   * @default Duration.minutes(15)
   */
  readonly dns?: Duration;
}

/**
 * Properties of a `StandbyRestore`.
 */
export interface StandbyRestoreProps {
  /**
   * The replica bucket the export workflow's objects are replicated to. It must be in this stack's
   * region: the standby is created here, and ElastiCache seeds only from objects in its own region.
   */
  readonly replicaBucket: SnapshotReplicaBucket;

  /**
   * The `snapshotPrefix` of the `ScheduledSnapshotExport` whose exports are restored: only its runs
   * (`<prefix>-YYYYMMDD-HHMMSS`, each with its manifest) are considered.
   */
  readonly snapshotPrefix: string;

  /**
   * The VPC the standby and the function that checks it run in.
   */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets of the standby's subnet group and of the check function.
   *
   * @default - the VPC's private subnets (isolated ones when it has no others)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups the standby gets besides its own (`standbySecurityGroup`), e.g. the one
   * applications in the recovery region already allow.
   *
   * @default - only its own
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The private hosted zone of the name applications use.
   */
  readonly hostedZone: route53.IPrivateHostedZone;

  /**
   * The name applications use, in `hostedZone` (a name relative to the zone, or fully qualified). A
   * failover run UPSERTs a CNAME record of this name to the standby's endpoint.
   */
  readonly recordName: string;

  /**
   * The record's TTL: how long resolvers may keep answering with the old target after a cutover.
   * Whole seconds, at most 2 days.
   *
   * @default Duration.seconds(60)
   */
  readonly recordTtl?: Duration;

  /**
   * The standby's port, whatever the export's source group used: the security group rules and
   * `connections` (its default port) are made for it at synth time.
   *
   * @default 6379
   */
  readonly port?: number;

  /**
   * The standby's node type.
   *
   * @default - the export's (from its manifest)
   */
  readonly nodeType?: string;

  /**
   * Replicas per shard of the standby.
   *
   * @default - the export's source group's, when its manifest says; else 1
   */
  readonly replicasPerShard?: number;

  /**
   * The standby's parameter group name (of the export's parameter group family).
   *
   * @default - ElastiCache's default parameter group of the engine version
   */
  readonly parameterGroupName?: string;

  /**
   * Whether the standby encrypts traffic (TLS). Valkey requires it for new groups; the check
   * function connects with TLS when it is on.
   *
   * @default true
   */
  readonly transitEncryption?: boolean;

  /**
   * A secret whose value (`SecretString`) is the standby's AUTH token (16 to 128 printable
   * characters, none of `@`, `"`, `/`). Needs `transitEncryption`. The restore reads it when it
   * creates the standby, the check when it signs in.
   *
   * @default - no AUTH token
   */
  readonly authToken?: secretsmanager.ISecret;

  /**
   * Automatic backups of the standby: days kept (1 to 35). A standby that becomes the primary
   * should be backed up from its first day.
   *
   * @default 7
   */
  readonly snapshotRetentionLimit?: number;

  /**
   * The prefix of the standbys' ids: `<prefix>-yymmdd-hhmmss`, from the run's start, so every run
   * creates a new group and never touches an existing one.
   *
   * @default - derived from the construct path (unique in the app)
   */
  readonly standbyIdPrefix?: string;

  /**
   * Waits between checks.
   *
   * @default - see `StandbyRestoreWaits`
   */
  readonly waits?: StandbyRestoreWaits;

  /**
   * How long the workflow keeps checking.
   *
   * @default - see `StandbyRestoreBounds`
   */
  readonly bounds?: StandbyRestoreBounds;

  /**
   * How long one run may take in all. It must hold `bounds` (checked at synth time).
   *
   * @default Duration.hours(4)
   */
  readonly timeout?: Duration;

  /**
   * When to rehearse: a run in `rehearsal` mode (restore, check, record, delete the standby; DNS
   * untouched) on this schedule, with its own alarm (`rehearsalFailureAlarm`).
   *
   * @default - no scheduled rehearsal
   */
  readonly rehearsalSchedule?: events.Schedule;

  /**
   * The topic every run's result and every failure is published to. Published with the state
   * machine's IAM role, so a topic encrypted with a customer managed key works when its key policy
   * lets the account's IAM policies grant use of the key.
   *
   * @default - a new topic, encrypted with the AWS managed key for SNS, TLS enforced
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * A customer managed KMS key for the workflow's log groups.
   *
   * @default - encrypted at rest by CloudWatch Logs with keys it manages
   */
  readonly logEncryptionKey?: kms.IKey;
}

/** What a run of `StandbyRestore` does once the standby passed its check (the run's input `mode`). */
export enum RestoreMode {
  /** Move the record to the standby (`"mode": "failover"`). */
  FAILOVER = 'failover',
  /** Leave DNS alone and delete the standby (`"mode": "rehearsal"`). */
  REHEARSAL = 'rehearsal',
}

const DEFAULTS = {
  waits: { create: Duration.minutes(5), dns: Duration.seconds(20) },
  bounds: { create: Duration.hours(3), dns: Duration.minutes(15) },
  timeout: Duration.hours(4),
  ttl: Duration.seconds(60),
  retention: 7,
};

/**
 * A workflow in the recovery region that restores a standby replication group from the newest
 * complete replicated export and, in `failover` mode, moves the name applications use to it.
 *
 * A Step Functions state machine (JSONPath), started on demand with
 * `{"mode": "failover" | "rehearsal", "runName"?: "<export run>"}`:
 * find the newest export whose manifest and every RDB object are in the replica bucket with the
 * sizes the manifest names (incomplete ones are passed over and listed) → let ElastiCache read its
 * objects → create a new group (`<standbyIdPrefix>-yymmdd-hhmmss`) seeded from them, shaped by the
 * manifest and the props → wait until it is `available` (`create-failed` and `restore-failed` end the
 * run) → check it from inside the VPC the way applications connect (TLS, AUTH): the key count is the
 * export's and the export's sample keys are there → `failover`: UPSERT the CNAME and wait until the
 * change is `INSYNC`; `rehearsal`: leave DNS alone and delete the standby → record RPO and RTO as
 * CloudWatch metrics and publish the result.
 *
 * Nothing existing is deleted or overwritten: the standby is new every run, DNS never moves to a
 * group that failed its check, and a failed run leaves its standby (if any) for inspection, named in
 * the notification.
 */
export class StandbyRestore extends Construct implements ec2.IConnectable {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;

  /** The topic results and failures are published to. */
  public readonly notificationTopic: sns.ITopic;

  /** An alarm on runs that fail, time out or are aborted. */
  public readonly failureAlarm: cloudwatch.Alarm;

  /** An alarm on failed scheduled rehearsals, when `rehearsalSchedule` is set. */
  public readonly rehearsalFailureAlarm?: cloudwatch.Alarm;

  /** The security group of every standby: allow applications in with `connections`. */
  public readonly standbySecurityGroup: ec2.SecurityGroup;

  /** The standby's connections (its security group, on the port of the exports). */
  public readonly connections: ec2.Connections;

  /** The prefix of the standbys' ids. */
  public readonly standbyIdPrefix: string;

  private readonly workflowName: string;

  constructor(scope: Construct, id: string, props: StandbyRestoreProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const replica = props.replicaBucket;
    const replicaRegion = Stack.of(replica).region;
    if (!Token.isUnresolved(replicaRegion) && !Token.isUnresolved(stack.region) && replicaRegion !== stack.region) {
      throw new Error(`replicaBucket is in ${replicaRegion} but this StandbyRestore is in ${stack.region}; ElastiCache seeds a group only from objects in its own region, so put the StandbyRestore in the replica bucket's stack region`);
    }
    checkName('snapshotPrefix', props.snapshotPrefix, MAX_SNAPSHOT_NAME_LENGTH - RUN_STAMP_LENGTH, '-YYYYMMDD-HHMMSS');
    this.standbyIdPrefix = props.standbyIdPrefix ?? defaultStandbyPrefix(this);
    checkName('standbyIdPrefix', this.standbyIdPrefix, MAX_GROUP_ID_LENGTH - STANDBY_STAMP_LENGTH, '-yymmdd-hhmmss');
    claimName({ namespace: Namespace.GROUP_ID, name: `${this.standbyIdPrefix}-*`, scope: this, prop: 'standbyIdPrefix', perEnvironment: true },
      'the standbys are named <prefix>-yymmdd-hhmmss: two workflows with one prefix would see each other\'s groups as their own');
    this.workflowName = this.standbyIdPrefix;
    const transitEncryption = props.transitEncryption ?? true;
    if (props.authToken && !transitEncryption) {
      throw new Error('authToken is set but transitEncryption is false; ElastiCache accepts an AUTH token only with in-transit encryption');
    }
    const retention = props.snapshotRetentionLimit ?? DEFAULTS.retention;
    if (!Number.isInteger(retention) || retention < 1 || retention > 35) {
      throw new Error(`snapshotRetentionLimit is ${retention}; keep the standby's automatic backups 1 to 35 days (a whole number)`);
    }
    if (props.nodeType !== undefined) checkNodeType(props.nodeType);
    const replicas = props.replicasPerShard;
    if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0 || replicas > 5)) {
      throw new Error(`replicasPerShard is ${props.replicasPerShard}; ElastiCache allows 0 to 5 replicas per shard`);
    }
    const ttl = props.recordTtl ?? DEFAULTS.ttl;
    if (!ttl.isUnresolved() && (ttl.toMilliseconds() % 1000 !== 0 || ttl.toMilliseconds() > 172_800_000)) {
      throw new Error(`recordTtl is ${ttl.toHumanString()}; give whole seconds up to 2 days: resolvers keep answering with the old target for the TTL after a failover, so a longer one defeats it (Route 53 itself would take more)`);
    }
    const waits = { create: props.waits?.create ?? DEFAULTS.waits.create, dns: props.waits?.dns ?? DEFAULTS.waits.dns };
    const bounds = { create: props.bounds?.create ?? DEFAULTS.bounds.create, dns: props.bounds?.dns ?? DEFAULTS.bounds.dns };
    const checks = { create: 0, dns: 0 };
    for (const name of ['create', 'dns'] as const) {
      if (waits[name].toMilliseconds() < 1000) throw new Error(`waits.${name} is ${waits[name].toHumanString()}; waits are at least 1 second`);
      if (bounds[name].toSeconds() < waits[name].toSeconds()) {
        throw new Error(`bounds.${name} is ${bounds[name].toHumanString()}, shorter than waits.${name} (${waits[name].toHumanString()}); a bound holds at least one wait`);
      }
      checks[name] = Math.ceil(bounds[name].toSeconds() / waits[name].toSeconds());
    }
    const timeout = props.timeout ?? DEFAULTS.timeout;
    const needed = waits.create.toSeconds() * checks.create + waits.dns.toSeconds() * checks.dns;
    if (timeout.toSeconds() < needed) {
      throw new Error(`timeout is ${timeout.toHumanString()} but the workflow's waits can take up to ${Duration.seconds(needed).toHumanString()}; give a longer timeout or shorter bounds`);
    }
    const recordName = qualify(props.recordName, props.hostedZone.zoneName);

    // ---- network: the standby's subnet group and security group, the check function's ----------
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? defaultSubnets(props.vpc));
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Standbys restored by ${this.node.path}`,
      subnetIds: subnets.subnetIds,
    });
    this.standbySecurityGroup = new ec2.SecurityGroup(this, 'StandbySecurityGroup', {
      vpc: props.vpc,
      description: `Standbys restored by ${this.node.path}`,
      allowAllOutbound: false,
    });
    const port = props.port ?? 6379;
    checkPort(port);
    this.connections = new ec2.Connections({ securityGroups: [this.standbySecurityGroup], defaultPort: ec2.Port.tcp(port) });
    const checkSecurityGroup = new ec2.SecurityGroup(this, 'CheckSecurityGroup', {
      vpc: props.vpc,
      description: `The data check of standbys restored by ${this.node.path}`,
      allowAllOutbound: false,
    });
    this.standbySecurityGroup.addIngressRule(checkSecurityGroup, ec2.Port.tcp(port), 'The restore workflow\'s check of the standby\'s data');
    checkSecurityGroup.addEgressRule(this.standbySecurityGroup, ec2.Port.tcp(port), 'To the standby it checks');
    if (props.authToken) {
      // The AUTH token is read from Secrets Manager over HTTPS: through an interface endpoint in the
      // VPC or a NAT gateway to its public endpoint, so HTTPS to any address.
      checkSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'To Secrets Manager (an interface endpoint, or through a NAT gateway)');
    }

    // ---- the Lambda steps ------------------------------------------------------------------------
    const logEncryptionKey = logKey(this, props.logEncryptionKey);
    const fn = new lambda.Function(this, 'Steps', {
      ...handlerFunctionProps('standby-restore'),
      handler: 'index.handler',
      timeout: Duration.minutes(1),
      description: 'cdk-elasticache-backup standby restore: find the export, create the standby, move DNS, record',
      logGroup: new logs.LogGroup(this, 'StepLogs', { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: logEncryptionKey }),
    });
    const check = new lambda.Function(this, 'Check', {
      ...handlerFunctionProps('standby-check'),
      handler: 'index.checkStandby',
      timeout: Duration.minutes(2),
      description: 'cdk-elasticache-backup standby restore: check the standby\'s data as applications connect',
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? defaultSubnets(props.vpc),
      securityGroups: [checkSecurityGroup],
      logGroup: new logs.LogGroup(this, 'CheckLogs', { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: logEncryptionKey }),
    });
    const standbyArns = [
      elastiCacheArn(this, 'replicationgroup', `${this.standbyIdPrefix}-*`),
      elastiCacheArn(this, 'cluster', `${this.standbyIdPrefix}-*`),
    ];
    const prefixObjects = replica.bucket.arnForObjects(`${props.snapshotPrefix}-*`);
    this.grantSteps(fn, replica, props, standbyArns, subnetGroup, prefixObjects);
    props.authToken?.grantRead(fn);
    props.authToken?.grantRead(check);

    // ---- the state machine ---------------------------------------------------------------------
    this.notificationTopic = props.notificationTopic ?? workflowTopic(this, 'ElastiCache standby restore results and failures');
    const failed = new sfn.Fail(this, 'Failed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const notifyFailure = new tasks.SnsPublish(this, 'NotifyFailure', {
      topic: this.notificationTopic,
      subject: 'ElastiCache standby restore failed',
      message: sfn.TaskInput.fromObject({
        'execution.$': '$$.Execution.Id',
        'error.$': '$.error.Error',
        'cause.$': '$.error.Cause',
        'note': 'If run.dns is present, DNS WAS MOVED to the standby (run.dns.newTarget) before the failure: applications use it now, do not delete it. '
          + 'Otherwise DNS was not moved, and a standby this run created, if any (run.found.standbyId), is left for inspection: delete it when done.',
        'run.$': '$',
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    notifyFailure.addRetry(publishRetry());
    notifyFailure.next(failed);
    const recordFailure = new tasks.LambdaInvoke(this, 'RecordFailure', {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(renderPayload(payloadOf<RestoreStepInput>({
        step: 'recordFailure', workflow: this.workflowName, request: at('$$.Execution.Input'), error: at('$.error.Error'),
      }))),
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: true,
    });
    // The notification goes out even when the metric cannot be recorded.
    recordFailure.addCatch(notifyFailure, { errors: ['States.ALL'], resultPath: sfn.JsonPath.DISCARD });
    recordFailure.next(notifyFailure);
    const onError = <T extends sfn.TaskStateBase>(task: T): T => {
      task.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      return task;
    };
    const step = (stateName: string, payload: StepPayload<RestoreStepInput>, resultPath: string) => onError(new tasks.LambdaInvoke(this, stateName, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(renderPayload(payload)),
      payloadResponseOnly: true,
      resultPath,
      retryOnServiceExceptions: true,
    }));

    const shape: StandbyShape = {
      cacheNodeType: props.nodeType,
      replicasPerShard: props.replicasPerShard,
      cacheParameterGroupName: props.parameterGroupName,
      port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [this.standbySecurityGroup, ...(props.securityGroups ?? [])].map((g) => g.securityGroupId),
      transitEncryption,
      authTokenSecretArn: props.authToken?.secretArn,
      snapshotRetentionLimit: retention,
      multiAz: true,
    };

    const find = step('FindExport', {
      step: 'findExport',
      request: at('$'),
      bucket: replica.bucketName,
      exportPrefix: props.snapshotPrefix,
      standbyPrefix: this.standbyIdPrefix,
      startTime: at('$$.Execution.StartTime'),
      record: { hostedZoneId: props.hostedZone.hostedZoneId, recordName },
    }, '$.found');
    const create = step('CreateStandby', {
      step: 'createStandby',
      bucket: replica.bucketName,
      grantObjectRead: replica.elastiCacheAccess === ElastiCacheBucketAccess.CANONICAL_USER_ACL,
      found: at('$.found'),
      shape,
      workflow: this.workflowName,
      executionName: at('$$.Execution.Name'),
    }, '$.standby');

    const waitCreate = new sfn.Wait(this, 'WaitForStandby', { time: sfn.WaitTime.duration(waits.create) });
    const describe = onError(new tasks.CallAwsService(this, 'DescribeStandby', {
      service: 'elasticache',
      action: 'describeReplicationGroups',
      parameters: { 'ReplicationGroupId.$': '$.standby.replicationGroupId' },
      iamResources: [standbyArns[0]],
      // The whole group too: the check reads its endpoints and encryption from it, calling no AWS API.
      resultSelector: { 'status.$': '$.ReplicationGroups[0].Status', 'group.$': '$.ReplicationGroups[0]' },
      resultPath: '$.standbyStatus',
    }));
    describe.addRetry(throttlingRetry());
    const countCreate = new sfn.Pass(this, 'CountStandbyCheck', {
      parameters: { 'replicationGroupId.$': '$.standby.replicationGroupId', 'clusterMode.$': '$.standby.clusterMode', 'shards.$': '$.standby.shards', 'checks.$': 'States.MathAdd($.standby.checks, 1)' },
      resultPath: '$.standby',
    });
    const restoreFailed = new sfn.Pass(this, 'RestoreFailed', {
      parameters: {
        'Error': 'RestoreFailed',
        'Cause.$': "States.Format('Standby {} ended {}: ElastiCache could not create it or load export {} (an RDB it cannot read, or data that does not fit the node type)', $.standby.replicationGroupId, $.standbyStatus.status, $.found.runName)",
      },
      resultPath: '$.error',
    });
    restoreFailed.next(recordFailure);
    const standbyIncomplete = new sfn.Pass(this, 'StandbyIncomplete', {
      parameters: {
        'Error': 'StandbyIncomplete',
        'Cause.$': `States.Format('Standby {} is still {} after ${checks.create} checks (${humanDuration(waits.create, checks.create)})', $.standby.replicationGroupId, $.standbyStatus.status)`,
      },
      resultPath: '$.error',
    });
    standbyIncomplete.next(recordFailure);

    const checkStandby = onError(new tasks.LambdaInvoke(this, 'CheckStandby', {
      lambdaFunction: check,
      payload: sfn.TaskInput.fromObject(renderPayload(payloadOf<CheckStandbyInput>({
        step: 'checkStandby',
        replicationGroupId: at('$.standby.replicationGroupId'),
        group: at('$.standbyStatus.group'),
        manifest: at('$.found.manifest'),
        authTokenSecretArn: props.authToken?.secretArn,
      }))),
      payloadResponseOnly: true,
      resultPath: '$.check',
      retryOnServiceExceptions: true,
    }));

    const cutover = step('MoveDns', {
      step: 'cutover',
      hostedZoneId: props.hostedZone.hostedZoneId,
      recordName,
      ttlSeconds: ttl.toSeconds(),
      target: at('$.check.endpoint.address'),
      comment: `cdk-elasticache-backup: failover by ${this.node.path}`.slice(0, 256),
    }, '$.dns');
    const waitDns = new sfn.Wait(this, 'WaitForDns', { time: sfn.WaitTime.duration(waits.dns) });
    const getChange = onError(new tasks.CallAwsService(this, 'GetDnsChange', {
      service: 'route53',
      action: 'getChange',
      parameters: { 'Id.$': '$.dns.changeId' },
      iamResources: [`arn:${stack.partition}:route53:::change/*`],
      resultSelector: { 'status.$': '$.ChangeInfo.Status' },
      resultPath: '$.dnsStatus',
    }));
    getChange.addRetry({ errors: ['Route53.ThrottlingException', 'Route53.PriorRequestNotCompleteException'], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 5 });
    const countDns = new sfn.Pass(this, 'CountDnsCheck', {
      parameters: { 'changeId.$': '$.dns.changeId', 'oldTarget.$': '$.dns.oldTarget', 'newTarget.$': '$.dns.newTarget', 'checks.$': 'States.MathAdd($.dns.checks, 1)' },
      resultPath: '$.dns',
    });
    const dnsIncomplete = new sfn.Pass(this, 'DnsChangeIncomplete', {
      parameters: {
        'Error': 'DnsChangeIncomplete',
        'Cause.$': `States.Format('Route 53 change {} of ${recordName} is still PENDING after ${checks.dns} checks (${humanDuration(waits.dns, checks.dns)}); it may still go in sync', $.dns.changeId)`,
      },
      resultPath: '$.error',
    });
    dnsIncomplete.next(recordFailure);

    const recordRun = step('RecordRun', {
      step: 'record',
      workflow: this.workflowName,
      mode: at('$.found.mode'),
      startTime: at('$$.Execution.StartTime'),
      now: at('$$.State.EnteredTime'),
      snapshotTime: at('$.found.snapshotTime'),
      runName: at('$.found.runName'),
      standbyId: at('$.standby.replicationGroupId'),
    }, '$.recorded');
    const deleteStandby = onError(new tasks.CallAwsService(this, 'DeleteRehearsalStandby', {
      service: 'elasticache',
      action: 'deleteReplicationGroup',
      parameters: { 'ReplicationGroupId.$': '$.standby.replicationGroupId', 'RetainPrimaryCluster': false },
      // Only the workflow's own standbys (its id prefix) can be deleted.
      iamResources: standbyArns,
      resultPath: sfn.JsonPath.DISCARD,
    }));
    deleteStandby.addRetry({ errors: sdkErrors('ElastiCache', 'InvalidReplicationGroupState'), interval: Duration.minutes(1), backoffRate: 2, maxAttempts: 4 });
    deleteStandby.addRetry(throttlingRetry());
    const result = new sfn.Pass(this, 'Result', {
      parameters: {
        'mode.$': '$.found.mode',
        'runName.$': '$.found.runName',
        'snapshotTime.$': '$.found.snapshotTime',
        'skipped.$': '$.found.skipped',
        'standby.$': '$.standby.replicationGroupId',
        'endpoint.$': '$.check.endpoint',
        'keys.$': '$.check.keys',
        'rpoSeconds.$': '$.recorded.rpoSeconds',
        'rtoSeconds.$': '$.recorded.rtoSeconds',
      },
      resultPath: '$.result',
    });
    const dnsResult = new sfn.Pass(this, 'DnsResult', {
      parameters: { 'record': recordName, 'oldTarget.$': '$.dns.oldTarget', 'newTarget.$': '$.dns.newTarget' },
      resultPath: '$.result.dns',
    });
    const notifyResult = new tasks.SnsPublish(this, 'NotifyResult', {
      topic: this.notificationTopic,
      subject: 'ElastiCache standby restore succeeded',
      message: sfn.TaskInput.fromObject({ 'execution.$': '$$.Execution.Id', 'result.$': '$.result' }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    notifyResult.addRetry(publishRetry());
    const done = new sfn.Pass(this, 'Done', { outputPath: '$.result' });
    notifyResult.next(done);

    const afterCheck = new sfn.Choice(this, 'Failover?')
      .when(sfn.Condition.stringEquals('$.found.mode', 'failover'), cutover
        .next(waitDns)
        .next(getChange)
        .next(countDns)
        .next(new sfn.Choice(this, 'DnsInSync?')
          .when(sfn.Condition.stringEquals('$.dnsStatus.status', 'INSYNC'), recordRun)
          .when(sfn.Condition.numberGreaterThanEquals('$.dns.checks', checks.dns), dnsIncomplete)
          .otherwise(waitDns)))
      .otherwise(recordRun);
    recordRun.next(result).next(new sfn.Choice(this, 'Rehearsal?')
      .when(sfn.Condition.stringEquals('$.found.mode', 'rehearsal'), deleteStandby.next(notifyResult))
      .otherwise(dnsResult.next(notifyResult)));

    const definition = find
      .next(create)
      .next(waitCreate)
      .next(describe)
      .next(countCreate)
      .next(new sfn.Choice(this, 'StandbyAvailable?')
        .when(sfn.Condition.stringEquals('$.standbyStatus.status', 'available'), checkStandby.next(afterCheck))
        .when(sfn.Condition.or(
          sfn.Condition.stringEquals('$.standbyStatus.status', 'create-failed'),
          sfn.Condition.stringEquals('$.standbyStatus.status', 'restore-failed'),
        ), restoreFailed)
        .when(sfn.Condition.numberGreaterThanEquals('$.standby.checks', checks.create), standbyIncomplete)
        .otherwise(waitCreate));

    this.stateMachine = workflowStateMachine(this, 'StateMachine', 'Logs', definition, timeout, logEncryptionKey);
    describeWorkflow(this.stateMachine, {
      kind: 'standby-restore',
      replicaBucket: replica.bucketName,
      snapshotPrefix: props.snapshotPrefix,
      standbyIdPrefix: this.standbyIdPrefix,
      hostedZoneId: props.hostedZone.hostedZoneId,
      recordName,
      transitEncryption,
      authTokenSecretArn: props.authToken?.secretArn,
    });
    this.notificationTopic.grantPublish(this.stateMachine);

    this.failureAlarm = failedRunsAlarm(this, this.stateMachine, `A standby restore run of ${this.node.path} failed, timed out or was aborted`);

    if (props.rehearsalSchedule) {
      new events.Rule(this, 'RehearsalSchedule', {
        schedule: props.rehearsalSchedule,
        description: `Rehearses the standby restore of ${this.node.path} (restore, check, record, delete; DNS untouched)`,
        targets: [new targets.SfnStateMachine(this.stateMachine, { input: events.RuleTargetInput.fromObject({ mode: 'rehearsal' }) })],
      });
      this.rehearsalFailureAlarm = new cloudwatch.Alarm(this, 'RehearsalFailureAlarm', {
        alarmDescription: `A rehearsal of the standby restore of ${this.node.path} failed`,
        metric: this.metricFailedRuns(RestoreMode.REHEARSAL, { period: Duration.hours(1) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    this.acknowledgeFindings(fn, check, standbyArns, prefixObjects);
  }

  /**
   * The recovery point of successful runs: seconds from the restored export's snapshot to the run's
   * start (the data a failover at that moment would have lost).
   *
   * @param mode the runs' mode (default: failover runs)
   */
  public metricRecoveryPoint(mode: RestoreMode = RestoreMode.FAILOVER, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRICS.rpo, mode, { statistic: 'Maximum', ...props });
  }

  /**
   * The recovery time of successful runs: seconds from the run's start to DNS in sync (failover) or
   * to the check passing (rehearsal).
   *
   * @param mode the runs' mode (default: failover runs)
   */
  public metricRecoveryTime(mode: RestoreMode = RestoreMode.FAILOVER, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRICS.rto, mode, { statistic: 'Maximum', ...props });
  }

  /**
   * Runs that failed (from inside the workflow: not those that timed out or were aborted, which
   * `failureAlarm` counts from Step Functions' own metrics).
   *
   * @param mode the runs' mode (default: failover runs)
   */
  public metricFailedRuns(mode: RestoreMode = RestoreMode.FAILOVER, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(METRICS.failures, mode, { statistic: 'Sum', ...props });
  }

  private metric(name: string, mode: RestoreMode, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const dimensionsMap = { Workflow: this.workflowName, Mode: mode };
    return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, dimensionsMap, ...props });
  }

  /** What the steps need: read the replica's exports, let ElastiCache read them, create the standby, move the record. */
  private grantSteps(fn: lambda.Function, replica: SnapshotReplicaBucket, props: StandbyRestoreProps, standbyArns: string[],
    subnetGroup: elasticache.CfnSubnetGroup, prefixObjects: string): void {
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Listing the workflow's exports (their manifests) in the replica bucket.
      actions: ['s3:ListBucket'],
      resources: [replica.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${props.snapshotPrefix}-*`] } },
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Reading manifests and checking the RDB objects (HeadObject); granting ElastiCache READ on the
      // RDB objects where it reads through ACLs. s3:GetObject is also listed by the Service
      // Authorization Reference as a dependent action of seeding (SnapshotArns): not confirmed here.
      actions: ['s3:GetObject', 's3:GetObjectAcl', 's3:PutObjectAcl'],
      resources: [prefixObjects],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // Creating the standby (and its member clusters) under the workflow's own id prefix, tagged at
      // creation (AddTagsToResource), in its subnet group, with the default or given parameter group.
      actions: ['elasticache:CreateReplicationGroup', 'elasticache:AddTagsToResource'],
      resources: [
        ...standbyArns,
        elastiCacheArn(this, 'subnetgroup', subnetGroup.ref),
        elastiCacheArn(this, 'parametergroup', props.parameterGroupName ?? '*'),
      ],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // A retried create step recognizes its own standby (DescribeReplicationGroups on the group).
      actions: ['elasticache:DescribeReplicationGroups'],
      resources: [standbyArns[0]],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      // The record's current value, then its UPSERT: only this name, only CNAME, only UPSERT.
      actions: ['route53:ListResourceRecordSets'],
      resources: [props.hostedZone.hostedZoneArn],
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [props.hostedZone.hostedZoneArn],
      conditions: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [qualify(props.recordName, props.hostedZone.zoneName).replace(/\.$/, '').toLowerCase()],
          'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        },
      },
    }));
  }

  private acknowledgeFindings(fn: lambda.Function, check: lambda.Function, standbyArns: string[], prefixObjects: string): void {
    const stack = Stack.of(this);
    const iam5 = (scope: Construct | undefined, resource: string, reason: string) => {
      if (scope) acknowledgeFinding(scope, `AwsSolutions-IAM5[Resource::${resource}]`, reason);
    };
    const stepsPolicy = fn.role?.node.tryFindChild('DefaultPolicy');
    const machinePolicy = this.stateMachine.role.node.tryFindChild('DefaultPolicy');
    const own = `The workflow's own standbys, named ${this.standbyIdPrefix}-yymmdd-hhmmss: a new id every run, so the resource is the id pattern.`;
    for (const arn of standbyArns) {
      iam5(stepsPolicy, findingResource(stack, arn), own);
      iam5(machinePolicy, findingResource(stack, arn), own);
    }
    iam5(stepsPolicy, findingResource(stack, prefixObjects), 'The export workflow\'s objects in the replica bucket (a new name every run), read and granted to ElastiCache by name pattern.');
    iam5(stepsPolicy, findingResource(stack, elastiCacheArn(this, 'parametergroup', '*')), 'ElastiCache\'s default parameter group of the export\'s engine version, known only at run time.');
    iam5(machinePolicy, 'arn:<AWS::Partition>:route53:::change/*', 'Route 53 change ids are made by each UPSERT: GetChange is authorized on change/*.');
    iam5(machinePolicy, '*', 'Two grants take no resource-level permission: the CloudWatch Logs delivery actions of execution logging, and the X-Ray trace actions.');
    for (const f of [fn, check]) {
      iam5(machinePolicy, `<${stack.getLogicalId(f.node.defaultChild as lambda.CfnFunction)}.Arn>:*`,
        'lambda:InvokeFunction on the versions and aliases (`<arn>:*`) of the workflow\'s own function, as aws-cdk-lib grants it for LambdaInvoke.');
    }
    acknowledgeFinding(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWSLambdaBasicExecutionRole only lets the function write its logs to CloudWatch Logs.');
    acknowledgeFinding(check, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWSLambdaBasicExecutionRole only lets the function write its logs to CloudWatch Logs.');
    acknowledgeFinding(check, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'AWSLambdaVPCAccessExecutionRole only lets the function write its logs and manage its network interfaces in the VPC.');
    acknowledgeHandlerFunction(fn, {
      invokedBy: 'the restore workflow\'s state machine, synchronously (Lambda tasks that catch its errors and notify them)',
      calls: 'S3, ElastiCache and Route 53',
      concurrency: 'one step at a time in each run of the workflow',
    });
    acknowledgeHandlerFunction(check, {
      invokedBy: 'the restore workflow\'s state machine, synchronously, once per run',
      calls: 'ElastiCache and the standby it checks',
      concurrency: 'one check at a time in each run of the workflow',
    });
    acknowledgeInlinePolicy(this.stateMachine.role);
    const eventsRole = this.stateMachine.node.tryFindChild('EventsRole');
    if (eventsRole) acknowledgeInlinePolicy(eventsRole);
  }
}

/** A Lambda step's payload, type-checked against the step's input. */
function payloadOf<T>(payload: StepPayload<T>): StepPayload<T> {
  return payload;
}

/** A record name relative to the zone, or fully qualified in it, as a fully qualified name with the trailing dot. */
function qualify(name: string, zoneName: string): string {
  if (Token.isUnresolved(name) || Token.isUnresolved(zoneName)) {
    throw new Error('recordName and the hosted zone\'s zoneName must be known at synth time: the IAM policy names the record');
  }
  const zone = zoneName.replace(/\.$/, '').toLowerCase();
  const n = name.replace(/\.$/, '').toLowerCase();
  if (n === zone) {
    throw new Error(`recordName '${name}' is the zone's apex; a CNAME cannot be at the apex of ${zone}: give a name in the zone`);
  }
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(n)) {
    throw new Error(`recordName '${name}' is not a DNS name (letters, digits, hyphens and underscores in dot-separated labels)`);
  }
  if (name.endsWith('.') && !n.endsWith(`.${zone}`)) {
    throw new Error(`recordName '${name}' is fully qualified (a trailing dot) but not in the zone ${zone}; give a name in the zone, relative or fully qualified`);
  }
  return `${n.endsWith(`.${zone}`) ? n : `${n}.${zone}`}.`;
}

function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return vpc.privateSubnets.length > 0 ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
}

/** A standby id prefix from the construct path: unique in the app, valid, short enough for the stamp. */
function defaultStandbyPrefix(scope: Construct): string {
  const max = MAX_GROUP_ID_LENGTH - STANDBY_STAMP_LENGTH;
  const unique = nameFromPath(scope, max);
  return (/^[a-z]/.test(unique) ? unique : `s-${unique}`).slice(0, max).replace(/-+$/, '');
}
