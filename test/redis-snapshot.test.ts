import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BackupSource, ClusterMode, RedisReplicationGroup, RedisSnapshot } from '../src';
import { groupStack, newStack } from './util';

function snapshotStack(props: Partial<ConstructorParameters<typeof RedisSnapshot>[2]> = {}) {
  const { stack, group } = groupStack({ replicationGroupId: 'app' });
  const snapshot = new RedisSnapshot(stack, 'BeforeUpgrade', { replicationGroup: group, snapshotName: 'before-upgrade', ...props });
  return { stack, group, snapshot, template: Template.fromStack(stack) };
}

test('the custom resource carries the contract the handler reads; retained by default', () => {
  const { template, stack, group } = snapshotStack({ source: BackupSource.replica() });
  template.hasResourceProperties('Custom::RedisSnapshot', {
    ServiceToken: Match.anyValue(),
    ReplicationGroupId: stack.resolve(group.replicationGroupId),
    SnapshotName: 'before-upgrade',
    CacheClusterId: { 'Fn::Join': ['', [stack.resolve(group.replicationGroupId), '-002']] },
    Removal: 'retain',
  });
});

test.each([
  [RemovalPolicy.DESTROY, 'destroy'],
  [RemovalPolicy.RETAIN, 'retain'],
])('removalPolicy %s', (removalPolicy, removal) => {
  snapshotStack({ removalPolicy }).template.hasResourceProperties('Custom::RedisSnapshot', { Removal: removal });
});

test('attributes come from the custom resource', () => {
  const { stack, snapshot } = snapshotStack();
  expect(stack.resolve(snapshot.snapshotArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^BeforeUpgrade/), 'SnapshotArn'] });
  expect(stack.resolve(snapshot.snapshotName)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^BeforeUpgrade/), 'SnapshotName'] });
});

test('one provider per stack, with handlers bundled at build time and IAM scoped to each snapshot', () => {
  const { stack, group } = groupStack({ replicationGroupId: 'app' });
  new RedisSnapshot(stack, 'A', { replicationGroup: group, snapshotName: 'snap-a' });
  new RedisSnapshot(stack, 'B', { replicationGroup: group, snapshotName: 'snap-b', source: BackupSource.primary() });
  const template = Template.fromStack(stack);
  template.resourceCountIs('Custom::RedisSnapshot', 2);
  // onEvent and isComplete, and the Provider framework's onEvent, isComplete and onTimeout.
  template.resourceCountIs('AWS::Lambda::Function', 5);
  template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Runtime: 'nodejs24.x' });
  template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isComplete', Runtime: 'nodejs24.x' });
  const snapshotArn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:eu-west-1:111111111111:snapshot:${name}`]] });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Action: ['elasticache:CreateSnapshot', 'elasticache:AddTagsToResource'], Resource: Match.arrayWith([snapshotArn('snap-b')]) }),
      ]),
    },
  });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Action: ['elasticache:DescribeSnapshots', 'elasticache:ListTagsForResource', 'elasticache:DeleteSnapshot'], Resource: snapshotArn('snap-a') }),
      ]),
    },
  });
});

test.each([
  ['an invalid name', { snapshotName: 'Before_Upgrade' },
    "snapshotName 'Before_Upgrade' has upper-case letters (ElastiCache stores names lower-case); ElastiCache names are 1 to 40 lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'"],
  ['RemovalPolicy.SNAPSHOT', { removalPolicy: RemovalPolicy.SNAPSHOT },
    'removalPolicy is snapshot; a RedisSnapshot is either retained or destroyed (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY)'],
  ['a timeout over 2 hours', { timeout: Duration.hours(3) }, 'timeout is 3 hours; a RedisSnapshot waits from 1 minute to 2 hours (the Provider framework\'s limit)'],
  ['a member of another group', { source: BackupSource.member('other-002') }, "source member 'other-002' is not a member of replication group 'app'"],
])('%s is refused', (_name, props, message) => {
  const { stack, vpc } = newStack();
  const group = RedisReplicationGroup.fromReplicationGroupAttributes(stack, 'G', { replicationGroupId: 'app' });
  void vpc;
  expect(() => new RedisSnapshot(stack, 'S', { replicationGroup: group, snapshotName: 'ok', ...props })).toThrow(new Error(message));
});

test('a source with cluster mode enabled is refused', () => {
  const { stack } = newStack();
  const group = RedisReplicationGroup.fromReplicationGroupAttributes(stack, 'G', { replicationGroupId: 'app', clusterMode: ClusterMode.ENABLED });
  expect(() => new RedisSnapshot(stack, 'S', { replicationGroup: group, snapshotName: 'ok', source: BackupSource.replica() }))
    .toThrow('source is given but the replication group has cluster mode enabled; ElastiCache snapshots such groups at group level only');
});

test('a later snapshot cannot ask the stack provider for a longer wait', () => {
  const { stack, group } = groupStack();
  new RedisSnapshot(stack, 'A', { replicationGroup: group, snapshotName: 'a', timeout: Duration.minutes(30) });
  expect(() => new RedisSnapshot(stack, 'B', { replicationGroup: group, snapshotName: 'b', timeout: Duration.hours(1) })).toThrow(/give the longest timeout to the first RedisSnapshot/);
});

test('cdk-nag AwsSolutions: the snapshot provider leaves no finding, its acknowledgements scoped to the provider', () => {
  const { stack, group } = groupStack();
  Validations.of(group.cfnReplicationGroup).acknowledge({ id: 'AwsSolutions-AEC5', reason: 'test: port 6379 kept' });
  Validations.of(group.secret!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test: rotation not available' });
  new RedisSnapshot(stack, 'S', { replicationGroup: group, snapshotName: 'nagged' });
  const report = new AwsSolutionsChecks(stack).validateScope(stack as Stack);
  const lines = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`));
  expect(lines).toEqual([]);
});

describe('backup.finalSnapshotName', () => {
  test('the group is kept by CloudFormation and deleted by the final snapshot resource', () => {
    const { stack, group, template } = (() => {
      const built = groupStack({ replicationGroupId: 'orders', backup: { retention: Duration.days(15), finalSnapshotName: 'orders-final' } });
      return { ...built, template: built.template() };
    })();
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('Custom::RedisFinalSnapshot', {
      ReplicationGroupId: stack.resolve(group.replicationGroupId),
      FinalSnapshotName: 'orders-final',
      ReplicationGroupLogicalId: stack.getLogicalId(group.cfnReplicationGroup),
    });
    // The handler asks CloudFormation about this stack only.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate', 'cloudformation:DescribeStackResource'],
          Effect: 'Allow',
          Resource: { Ref: 'AWS::StackId' },
        }]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: ['elasticache:DeleteReplicationGroup', 'elasticache:CreateSnapshot'] })]),
      },
    });
  });

  test.each([
    ['an invalid name', { backup: { retention: Duration.days(1), finalSnapshotName: 'final--x' } },
      "backup.finalSnapshotName 'final--x' has two consecutive hyphens '--'; ElastiCache names are 1 to 40 lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'"],
    ['a removal policy', { removalPolicy: RemovalPolicy.RETAIN, backup: { retention: Duration.days(1), finalSnapshotName: 'final' } },
      "backup.finalSnapshotName is 'final' but removalPolicy is retain; a named final snapshot takes the place of RemovalPolicy.SNAPSHOT (leave removalPolicy unset)"],
    ['cache.t1.micro', { nodeType: 'cache.t1.micro', replicasPerShard: 0, backup: { retention: Duration.days(0), finalSnapshotName: 'final' } },
      "backup.finalSnapshotName is 'final' but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault)"],
  ])('%s is refused', (_name, props, message) => {
    expect(() => groupStack(props as any)).toThrow(new Error(message));
  });

  test('cdk-nag AwsSolutions passes with the final snapshot resource', () => {
    const { stack, group } = groupStack({ backup: { retention: Duration.days(15), finalSnapshotName: 'final' } });
    Validations.of(group.cfnReplicationGroup).acknowledge({ id: 'AwsSolutions-AEC5', reason: 'test: port 6379 kept' });
    Validations.of(group.secret!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test: rotation not available' });
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`))).toEqual([]);
  });
});
