import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { elastiCacheArn } from './arns';
import { CHECK_INTERVAL_SECONDS, MAX_TIMEOUT_SECONDS } from './deadline-contract';
import { handlerFunctionProps } from './handler-code';
import { acknowledgeComplianceFinding, acknowledgeFinding, acknowledgeHandlerFunction, acknowledgeInlinePolicy, findingResource } from './nag';

const PROVIDER_ID = 'CdkElastiCacheBackupProvider';
const PRE_UPDATE_PROVIDER_ID = 'CdkElastiCacheBackupPreUpdateProvider';

/**
 * The stack's one provider for this library's custom resources (`Custom::RedisSnapshot`,
 * `Custom::RedisFinalSnapshot`, `Custom::SnapshotExportBucketAcl`): onEvent and isComplete functions over the bundled handlers, which
 * dispatch on the resource type.
 *
 * Its waiter waits the longest CloudFormation allows (one hour); each resource's own timeout is
 * kept by its handler (lambda/handlers/deadline.ts), so no resource depends on which one came first.
 */
export class BackupProvider extends Construct {
  public static of(scope: Construct): BackupProvider {
    return BackupProvider.withId(scope, PROVIDER_ID);
  }

  /**
   * The stack's provider for snapshots taken before a group's update (`Custom::RedisPreUpdateSnapshot`).
   * It is a provider of its own because the group depends on those resources: none of its
   * functions' permissions may refer to a group, or the group, the resource, the functions and
   * their policies would depend on each other (the shared provider's grants name groups by `Ref`).
   */
  public static preUpdate(scope: Construct): BackupProvider {
    return BackupProvider.withId(scope, PRE_UPDATE_PROVIDER_ID);
  }

  private static withId(scope: Construct, id: string): BackupProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(id) as BackupProvider | undefined;
    return existing ?? new BackupProvider(stack, id);
  }

  public readonly serviceToken: string;
  private readonly onEvent: lambda.Function;
  private readonly isComplete: lambda.Function;
  private readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const common = {
      ...handlerFunctionProps('custom-resources'),
      timeout: Duration.minutes(1),
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
    };
    this.onEvent = new lambda.Function(this, 'OnEvent', { ...common, handler: 'index.onEvent', description: 'cdk-elasticache-backup custom resources: onEvent' });
    this.isComplete = new lambda.Function(this, 'IsComplete', { ...common, handler: 'index.isComplete', description: 'cdk-elasticache-backup custom resources: isComplete' });
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent,
      isCompleteHandler: this.isComplete,
      // A snapshot takes minutes; one check a minute keeps the waiter cheap.
      queryInterval: Duration.seconds(CHECK_INTERVAL_SECONDS),
      // CloudFormation's limit for a custom resource; shorter timeouts are the handlers' to keep.
      totalTimeout: Duration.seconds(MAX_TIMEOUT_SECONDS),
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

  /** Grants the handlers what one RedisSnapshot needs, on that group and that snapshot only. */
  public grantSnapshot(groupArn: string, snapshotName: string, cacheClusterId: string | undefined): void {
    const snapshotArn = elastiCacheArn(this, 'snapshot', snapshotName);
    const memberArns = cacheClusterId ? [elastiCacheArn(this, 'cluster', cacheClusterId)] : [];
    const role = this.onEvent.role!;
    // CreateSnapshot is authorized on the group (or member) and on the snapshot it creates; the
    // tag marks the snapshot as this resource's.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['elasticache:CreateSnapshot', 'elasticache:AddTagsToResource'],
      resources: [groupArn, ...memberArns, snapshotArn],
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
   * Grants the handlers what deleting a group with a named final snapshot needs. ElastiCache
   * authorizes DeleteReplicationGroup with FinalSnapshotIdentifier also as a CreateSnapshot.
   */
  public grantFinalSnapshot(groupArn: string, memberArns: string[], snapshotName: string): void {
    const snapshotArn = elastiCacheArn(this, 'snapshot', snapshotName);
    for (const fn of [this.onEvent, this.isComplete]) {
      fn.role!.addToPrincipalPolicy(new iam.PolicyStatement({
        // Reading the group's and the final snapshot's status.
        actions: ['elasticache:DescribeReplicationGroups', 'elasticache:DescribeSnapshots'],
        resources: [groupArn, snapshotArn],
      }));
    }
    this.onEvent.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      // Whether the group is leaving its stack: the stack's status, its current template, and the
      // group its logical resource stands for now. Only this stack.
      actions: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate', 'cloudformation:DescribeStackResource'],
      resources: [Stack.of(this).stackId],
    }));
    this.isComplete.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      // The deletion itself, with the final snapshot it takes from the primary.
      actions: ['elasticache:DeleteReplicationGroup', 'elasticache:CreateSnapshot'],
      resources: [groupArn, ...memberArns, snapshotArn],
    }));
  }

  /**
   * Grants the pre-update snapshot handlers what one group's snapshots before its updates need.
   * None of these statements names the group: the group depends on the resource (see `preUpdate`),
   * and the group snapshotted before a replacement is the stack's previous one, whose id the new
   * template cannot know. What they may create is bounded by the snapshot names instead.
   */
  public grantPreUpdateSnapshot(snapshotPrefix: string): void {
    const stack = Stack.of(this);
    const snapshots = elastiCacheArn(this, 'snapshot', `${snapshotPrefix}-*`);
    const anyGroup = elastiCacheArn(this, 'replicationgroup', '*');
    const anyMember = elastiCacheArn(this, 'cluster', '*');
    for (const fn of [this.onEvent, this.isComplete]) {
      const role = fn.role!;
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        // CreateSnapshot is authorized on the group or member and on the snapshot it creates; the
        // tag marks the snapshot as this resource's. isComplete starts it when the group was busy.
        actions: ['elasticache:CreateSnapshot', 'elasticache:AddTagsToResource'],
        resources: [anyGroup, anyMember, snapshots],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        // Whether the group still exists; listing snapshots to find this resource's own.
        actions: ['elasticache:DescribeReplicationGroups', 'elasticache:DescribeSnapshots'],
        resources: ['*'],
      }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        // Reading a snapshot's owner tag, and deleting this resource's snapshots beyond its keep count.
        actions: ['elasticache:ListTagsForResource', 'elasticache:DeleteSnapshot'],
        resources: [snapshots],
      }));
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (policy) {
        const own = `Snapshots named ${snapshotPrefix}-YYYYMMDD-HHMMSS: a new name for every update, so the resource is the name pattern.`;
        acknowledgeFinding(policy, `AwsSolutions-IAM5[Resource::${findingResource(stack, snapshots)}]`, own);
        const previous = 'The group snapshotted before a replacement is the stack\'s previous group, whose id the new template cannot name, '
          + `and no statement may refer to the group (it depends on this resource); the snapshots it may create are only those named ${snapshotPrefix}-*.`;
        acknowledgeFinding(policy, `AwsSolutions-IAM5[Resource::${findingResource(stack, anyGroup)}]`, previous);
        acknowledgeFinding(policy, `AwsSolutions-IAM5[Resource::${findingResource(stack, anyMember)}]`, previous);
        acknowledgeFinding(policy, 'AwsSolutions-IAM5[Resource::*]',
          'DescribeSnapshots by source (a listing) and DescribeReplicationGroups of a group this template cannot name (see above) take no narrower resource.');
      }
    }
    this.onEvent.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      // Whether the stack is updating or rolling back (no snapshot during a rollback). Only this stack.
      actions: ['cloudformation:DescribeStacks'],
      resources: [stack.stackId],
    }));
  }

  /** Grants the handlers what adding ElastiCache's grants to one bucket's ACL needs. */
  public grantBucketAcl(bucketArn: string): void {
    this.onEvent.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      // Reading the ACL and writing it back with ElastiCache's canonical user added (or removed).
      actions: ['s3:GetBucketAcl', 's3:PutBucketAcl'],
      resources: [bucketArn],
    }));
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
    this.acknowledgeComplianceFindings();
  }

  /**
   * The findings cdk-nag HIPAA Security and NIST 800-53 rev 5 raise on the provider's own resources
   * (they name the same rules), each acknowledged on the resource it is about. The functions run
   * only while CloudFormation deploys this stack's custom resources.
   */
  private acknowledgeComplianceFindings(): void {
    const framework = (id: string) => this.provider.node.tryFindChild(id) as lambda.Function | undefined;
    const perEvent = 'one invocation per CloudFormation event of this stack\'s custom resources';
    const perCheck = 'one invocation per check (a minute apart) of each custom resource waiting to complete';
    acknowledgeHandlerFunction(this.onEvent, {
      invokedBy: 'the Provider framework\'s onEvent function, synchronously (RequestResponse)', calls: 'ElastiCache and S3', concurrency: perEvent,
    });
    acknowledgeHandlerFunction(this.isComplete, {
      invokedBy: 'the Provider framework\'s isComplete function, synchronously (RequestResponse)', calls: 'ElastiCache', concurrency: perCheck,
    });
    const onEvent = framework('framework-onEvent');
    if (onEvent) {
      acknowledgeHandlerFunction(onEvent, {
        invokedBy: 'CloudFormation',
        calls: 'Lambda, Step Functions and the CloudFormation response URL (S3)',
        concurrency: perEvent,
        // Lambda developer guide, "Using AWS Lambda with CloudFormation": CloudFormation invokes
        // the function asynchronously.
        dlq: 'CloudFormation invokes this aws-cdk-lib Provider framework function asynchronously, and the framework reports every error of its handlers '
          + 'to CloudFormation as FAILED itself; an event it could not answer fails the stack operation at the custom resource\'s timeout, '
          + 'so a dead-letter queue would only hold events that nothing replays.',
      });
    }
    const isComplete = framework('framework-isComplete');
    if (isComplete) {
      acknowledgeHandlerFunction(isComplete, {
        invokedBy: 'the Provider framework\'s waiter state machine, synchronously (a Lambda task)', calls: 'Lambda and the CloudFormation response URL (S3)', concurrency: perCheck,
      });
    }
    const onTimeout = framework('framework-onTimeout');
    if (onTimeout) {
      acknowledgeHandlerFunction(onTimeout, {
        invokedBy: 'the Provider framework\'s waiter state machine, synchronously (a Lambda task)',
        calls: 'the CloudFormation response URL (S3)',
        concurrency: 'once per custom resource that did not complete in time',
      });
    }
    const waiterRole = this.provider.node.tryFindChild('waiter-state-machine')?.node.tryFindChild('Role');
    if (waiterRole) acknowledgeInlinePolicy(waiterRole);
    // CloudWatch Logs encrypts all log data at rest with keys it manages; a customer managed key is
    // what these rules ask for.
    const logReason = 'CloudWatch Logs encrypts these logs at rest with keys it manages. They hold the CloudFormation events and handler results of '
      + 'this library\'s custom resources (group and snapshot names, ARNs, statuses), no cached data and no secrets; the provider is shared by '
      + 'the stack\'s resources, so no construct prop chooses a key for it.';
    for (const id of ['Logs', 'WaiterLogs']) {
      const group = this.node.tryFindChild(id);
      if (group) acknowledgeComplianceFinding(group.node.defaultChild ?? group, 'CloudWatchLogGroupEncrypted', logReason);
    }
  }
}
