import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { elastiCacheArn } from './arns';
import { CHECK_INTERVAL_SECONDS, MAX_TIMEOUT_SECONDS } from './deadline-contract';
import { acknowledgeFinding } from './nag';
import { IRedisReplicationGroup } from '../replication-group';

const PROVIDER_ID = 'CdkElastiCacheBackupProvider';

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
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID) as BackupProvider | undefined;
    return existing ?? new BackupProvider(stack, PROVIDER_ID);
  }

  public readonly serviceToken: string;
  private readonly onEvent: lambda.Function;
  private readonly isComplete: lambda.Function;
  private readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    // Bundled with esbuild at build time (the package ships it); nothing is bundled during synth.
    const code = lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', 'handlers'));
    const common = {
      code,
      runtime: lambda.Runtime.NODEJS_24_X,
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
  public grantSnapshot(group: IRedisReplicationGroup, snapshotName: string, cacheClusterId: string | undefined): void {
    const snapshotArn = elastiCacheArn(this, 'snapshot', snapshotName);
    const memberArns = cacheClusterId ? [elastiCacheArn(this, 'cluster', cacheClusterId)] : [];
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
    this.isComplete.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      // The deletion itself, with the final snapshot it takes from the primary.
      actions: ['elasticache:DeleteReplicationGroup', 'elasticache:CreateSnapshot'],
      resources: [groupArn, ...memberArns, snapshotArn],
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
  }
}
