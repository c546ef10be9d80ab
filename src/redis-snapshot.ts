import * as path from 'path';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { BackupSource, BackupSourceKind } from './backup';
import { acknowledgeFinding } from './private/nag';
import { checkName, MAX_SNAPSHOT_NAME_LENGTH } from './private/names';
import { RedisSnapshotResourceProperties } from './private/redis-snapshot-contract';
import { ClusterMode, IRedisReplicationGroup } from './replication-group';

/**
 * Properties of a `RedisSnapshot`.
 */
export interface RedisSnapshotProps {
  /**
   * The replication group to snapshot.
   */
  readonly replicationGroup: IRedisReplicationGroup;

  /**
   * The snapshot's name: 1 to 40 lower-case letters, digits or hyphens, starting with a letter, with
   * no `--` and no trailing `-`. A new name takes a new snapshot; the old one then follows the
   * removal policy.
   */
  readonly snapshotName: string;

  /**
   * The node the snapshot is taken from. Only for cluster mode disabled.
   *
   * @default - ElastiCache's choice for a group-level snapshot: a replica when there is one (for
   * cluster mode enabled, one node per shard)
   */
  readonly source?: BackupSource;

  /**
   * How long the snapshot may take before the deployment fails.
   *
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;

  /**
   * What happens to the snapshot when the resource is removed from the stack, or replaced by a new
   * name. Only `RETAIN` and `DESTROY` apply.
   *
   * @default RemovalPolicy.RETAIN (a manual backup outlives its stack, as in ElastiCache)
   */
  readonly removalPolicy?: RemovalPolicy;
}

const PROVIDER_ID = 'CdkElastiCacheBackupSnapshotProvider';

/**
 * A manual ElastiCache snapshot taken at deploy time, e.g. before a risky change.
 *
 * A custom resource (Provider framework, one provider per stack) takes the snapshot and waits until
 * it is `available`. A retry finds its own snapshot and resumes; a name taken by a snapshot this
 * resource did not make fails the deployment before anything changes.
 *
 * Updates: a new `snapshotName` takes a new snapshot, and the old one follows the removal policy;
 * a new `removalPolicy` applies from then on; changing `source` or the group without a new name
 * takes no new snapshot.
 */
export class RedisSnapshot extends Construct {
  /**
   * The snapshot's name.
   *
   * @attribute
   */
  public readonly snapshotName: string;

  /**
   * The snapshot's ARN.
   *
   * @attribute
   */
  public readonly snapshotArn: string;

  constructor(scope: Construct, id: string, props: RedisSnapshotProps) {
    super(scope, id);
    checkName('snapshotName', props.snapshotName, MAX_SNAPSHOT_NAME_LENGTH);
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removal !== RemovalPolicy.RETAIN && removal !== RemovalPolicy.DESTROY) {
      throw new Error(`removalPolicy is ${removal}; a RedisSnapshot is either retained or destroyed (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY)`);
    }
    const timeout = props.timeout ?? Duration.hours(1);
    if (!timeout.isUnresolved() && (timeout.toSeconds() < 60 || timeout.toHours({ integral: false }) > 2)) {
      throw new Error(`timeout is ${timeout.toHumanString()}; a RedisSnapshot waits from 1 minute to 2 hours (the Provider framework's limit)`);
    }
    const group = props.replicationGroup;
    const cacheClusterId = this.sourceMember(group, props.source);

    const provider = RedisSnapshotProvider.of(this, timeout);
    provider.grantFor(group, props.snapshotName, cacheClusterId);

    const properties: RedisSnapshotResourceProperties = {
      ReplicationGroupId: group.replicationGroupId,
      SnapshotName: props.snapshotName,
      CacheClusterId: cacheClusterId,
      Removal: removal === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RedisSnapshot',
      properties,
    });
    this.snapshotName = resource.getAttString('SnapshotName');
    this.snapshotArn = resource.getAttString('SnapshotArn');
  }

  private sourceMember(group: IRedisReplicationGroup, source: BackupSource | undefined): string | undefined {
    if (!source) {
      return undefined;
    }
    if (group.clusterMode === ClusterMode.ENABLED) {
      throw new Error('source is given but the replication group has cluster mode enabled; ElastiCache snapshots such groups at group level only');
    }
    switch (source.kind) {
      case BackupSourceKind.PRIMARY:
        return `${group.replicationGroupId}-001`;
      case BackupSourceKind.REPLICA:
        return `${group.replicationGroupId}-002`;
      default:
        if (!Token.isUnresolved(source.cacheClusterId!) && !Token.isUnresolved(group.replicationGroupId)
          && !source.cacheClusterId!.startsWith(`${group.replicationGroupId}-`)) {
          throw new Error(`source member '${source.cacheClusterId}' is not a member of replication group '${group.replicationGroupId}'`);
        }
        return source.cacheClusterId;
    }
  }
}

/**
 * The stack's one snapshot provider: the onEvent and isComplete functions over the bundled handler.
 */
class RedisSnapshotProvider extends Construct {
  public static of(scope: Construct, timeout: Duration): RedisSnapshotProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID) as RedisSnapshotProvider | undefined;
    if (existing) {
      existing.extendTimeout(timeout);
      return existing;
    }
    return new RedisSnapshotProvider(stack, PROVIDER_ID, timeout);
  }

  public readonly serviceToken: string;
  private readonly onEvent: lambda.Function;
  private readonly isComplete: lambda.Function;
  private readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string, private readonly timeout: Duration) {
    super(scope, id);
    // Bundled with esbuild at build time (the package ships it); nothing is bundled during synth.
    const code = lambda.Code.fromAsset(path.join(__dirname, '..', 'assets', 'redis-snapshot'));
    const common = {
      code,
      runtime: lambda.Runtime.NODEJS_24_X,
      timeout: Duration.minutes(1),
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
    };
    this.onEvent = new lambda.Function(this, 'OnEvent', { ...common, handler: 'index.onEvent', description: 'RedisSnapshot: starts snapshots and deletions' });
    this.isComplete = new lambda.Function(this, 'IsComplete', { ...common, handler: 'index.isComplete', description: 'RedisSnapshot: checks snapshot status' });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent,
      isCompleteHandler: this.isComplete,
      // A snapshot takes minutes; one check a minute keeps the waiter cheap.
      queryInterval: Duration.minutes(1),
      totalTimeout: timeout,
      // The waiter's history is kept, so a failed wait can be traced.
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: logs.RetentionDays.ONE_MONTH }),
        level: sfn.LogLevel.ALL,
      },
    });
    this.serviceToken = this.provider.serviceToken;
    this.acknowledgeFrameworkFindings();
  }

  /** The stack's one provider waits as long as its first RedisSnapshot asked; a longer wait is refused. */
  private extendTimeout(timeout: Duration): void {
    if (!timeout.isUnresolved() && !this.timeout.isUnresolved() && timeout.toSeconds() > this.timeout.toSeconds()) {
      throw new Error(`timeout is ${timeout.toHumanString()} but the stack's snapshot provider waits ${this.timeout.toHumanString()} `
        + '(set by the first RedisSnapshot of the stack); give the longest timeout to the first one');
    }
  }

  /** Grants the handler what one snapshot resource needs, on that group and that snapshot only. */
  public grantFor(group: IRedisReplicationGroup, snapshotName: string, cacheClusterId: string | undefined): void {
    const stack = Stack.of(this);
    const snapshotArn = stack.formatArn({ service: 'elasticache', resource: 'snapshot', resourceName: snapshotName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const memberArns = cacheClusterId
      ? [stack.formatArn({ service: 'elasticache', resource: 'cluster', resourceName: cacheClusterId, arnFormat: ArnFormat.COLON_RESOURCE_NAME })]
      : [];
    const role = this.onEvent.role!;
    // CreateSnapshot is authorized on the group (or member) and on the snapshot it creates; the
    // tag marks the snapshot as this resource's.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['elasticache:CreateSnapshot', 'elasticache:AddTagsToResource'],
      resources: [group.replicationGroupArn, ...memberArns, snapshotArn],
    }));
    for (const fn of [this.onEvent, this.isComplete]) {
      fn.role!.addToPrincipalPolicy(new iam.PolicyStatement({
        // Reading the snapshot's status and owner tag; deleting it for RemovalPolicy.DESTROY.
        actions: ['elasticache:DescribeSnapshots', 'elasticache:ListTagsForResource', 'elasticache:DeleteSnapshot'],
        resources: [snapshotArn],
      }));
    }
  }

  /**
   * The findings cdk-nag AwsSolutions raises on the provider's own resources, each acknowledged by
   * its finding id on the construct it is about, with the reason it is acceptable.
   */
  private acknowledgeFrameworkFindings(): void {
    const stack = Stack.of(this);
    const arnOf = (fn: lambda.Function) => `<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>`;
    const framework = ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']
      .map((id) => this.provider.node.tryFindChild(id) as lambda.Function | undefined)
      .filter((fn): fn is lambda.Function => fn !== undefined);
    for (const fn of [this.onEvent, this.isComplete, ...framework]) {
      acknowledgeFinding(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'AWSLambdaBasicExecutionRole only lets the function write its logs to CloudWatch Logs.');
    }
    const invokeAny = 'lambda:InvokeFunction on any version or alias (`<arn>:*`) of one of this provider\'s own functions, as the Provider framework grants it.';
    for (const fn of framework) {
      for (const target of [this.onEvent, this.isComplete]) {
        acknowledgeFinding(fn, `AwsSolutions-IAM5[Resource::${arnOf(target)}:*]`, invokeAny);
      }
      acknowledgeFinding(fn, 'AwsSolutions-L1', 'The runtime of the Provider framework\'s own functions is chosen by aws-cdk-lib; the handler functions use the latest Node.js runtime.');
    }
    const waiter = this.provider.node.tryFindChild('waiter-state-machine');
    if (waiter) {
      for (const fn of framework.slice(1)) {
        acknowledgeFinding(waiter, `AwsSolutions-IAM5[Resource::${arnOf(fn)}:*]`, invokeAny);
      }
      acknowledgeFinding(waiter, 'AwsSolutions-IAM5[Resource::*]',
        'The CloudWatch Logs delivery actions the waiter\'s execution logging needs (logs:CreateLogDelivery and related) do not support resource-level permissions.');
      acknowledgeFinding(waiter, 'AwsSolutions-SF2', 'X-Ray tracing of the Provider framework\'s waiter state machine cannot be turned on through aws-cdk-lib; its executions are logged at level ALL.');
    }
  }
}
