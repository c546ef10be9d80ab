import { Duration, Lazy, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  BackupSource, ClusterMode, RedisReplicationGroup, RedisSnapshot, RedisSnapshotProps, SnapshotBeforeUpdateOptions,
} from '../src';
import { GroupProps, groupStack, newStack } from './util';

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

type Refused = [name: string, props: Partial<RedisSnapshotProps>, message: string];
test.each<Refused>([
  ['an invalid name', { snapshotName: 'Before_Upgrade' },
    "snapshotName 'Before_Upgrade' has upper-case letters (ElastiCache stores names lower-case); ElastiCache names are 1 to 40 lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'"],
  ['RemovalPolicy.SNAPSHOT', { removalPolicy: RemovalPolicy.SNAPSHOT },
    'removalPolicy is snapshot; a RedisSnapshot is either retained or destroyed (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY)'],
  ...([
    ['a timeout over 1 hour', Duration.hours(2), '2 hours'],
    ['a timeout of 61 minutes', Duration.minutes(61), '1 hour 1 minute'],
    ['a timeout under 1 minute', Duration.seconds(59), '59 seconds'],
    ['a timeout of 0', Duration.seconds(0), '0 seconds'],
  ] as const).map(([name, timeout, human]): Refused => [name, { timeout },
    `timeout is ${human}; a RedisSnapshot waits from 1 minute to 1 hour (CloudFormation waits at most one hour for a custom resource)`]),
  ...([
    ['a timeout of 90 seconds', Duration.seconds(90), '1 minute 30 seconds'],
    ['a timeout in milliseconds', Duration.millis(60_500), '1 minute 500 millis'],
    ['a timeout of 59 minutes 30 seconds', Duration.seconds(3570), '59 minutes 30 seconds'],
  ] as const).map(([name, timeout, human]): Refused => [name, { timeout },
    `timeout is ${human}; a RedisSnapshot's timeout is a whole number of minutes (its status is checked once a minute)`]),
  ['a timeout that is a token', { timeout: Duration.seconds(Lazy.number({ produce: () => 600 })) },
    'timeout is a token; it must be known at synth time (the handler is given it in whole minutes)'],
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

test.each([
  ['1 minute', Duration.minutes(1), 60],
  ['30 minutes', Duration.minutes(30), 1800],
  ['1 hour', Duration.hours(1), 3600],
  ['the default', undefined, 3600],
])('a timeout of %s reaches the handler in seconds', (_name, timeout, seconds) => {
  snapshotStack({ timeout }).template.hasResourceProperties('Custom::RedisSnapshot', { SnapshotName: 'before-upgrade', TimeoutSeconds: seconds });
});

/** Each custom resource's TimeoutSeconds by snapshot name (final snapshots have none: theirs is the hour), and the waiter's retry. */
function timeouts(stack: Stack) {
  const template = Template.fromStack(stack);
  const snapshots = Object.values(template.findResources('Custom::RedisSnapshot')).map((r) => [r.Properties.SnapshotName, r.Properties.TimeoutSeconds]);
  const finals = Object.values(template.findResources('Custom::RedisFinalSnapshot')).map((r) => [r.Properties.FinalSnapshotName, r.Properties.TimeoutSeconds]);
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  expect(machines).toHaveLength(1);
  const definition = JSON.parse((stack.resolve(machines[0].Properties.DefinitionString)['Fn::Join'][1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : 'arn')).join(''));
  const retry = definition.States['framework-isComplete-task'].Retry[0];
  return { snapshots, finals, waiter: { interval: retry.IntervalSeconds, attempts: retry.MaxAttempts }, lambdas: template.findResources('AWS::Lambda::Function') };
}

describe('the order of construction does not matter: one provider, waiting the hour, and each resource with its own timeout', () => {
  const expected = {
    snapshots: [['hour-long', 3600], ['five-minutes', 300]],
    finals: [['orders-final', undefined]],
    waiter: { interval: 60, attempts: 60 },
  };

  test('a group with a final snapshot, then a 1-hour RedisSnapshot and a shorter one', () => {
    const { stack, group } = groupStack({ replicationGroupId: 'orders', backup: { retention: Duration.days(15), finalSnapshotName: 'orders-final' } });
    new RedisSnapshot(stack, 'HourLong', { replicationGroup: group, snapshotName: 'hour-long', timeout: Duration.hours(1) });
    new RedisSnapshot(stack, 'FiveMinutes', { replicationGroup: group, snapshotName: 'five-minutes', timeout: Duration.minutes(5) });
    const { lambdas, ...rest } = timeouts(stack);
    expect(rest).toEqual(expected);
    expect(Object.keys(lambdas)).toHaveLength(5);
  });

  test('a 1-hour RedisSnapshot first, then a shorter one, then a group with a final snapshot', () => {
    const { stack, vpc } = newStack();
    const other = RedisReplicationGroup.fromReplicationGroupAttributes(stack, 'Other', { replicationGroupId: 'other' });
    new RedisSnapshot(stack, 'HourLong', { replicationGroup: other, snapshotName: 'hour-long', timeout: Duration.hours(1) });
    new RedisSnapshot(stack, 'FiveMinutes', { replicationGroup: other, snapshotName: 'five-minutes', timeout: Duration.minutes(5) });
    new RedisReplicationGroup(stack, 'Orders', {
      vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders', backup: { retention: Duration.days(15), finalSnapshotName: 'orders-final' },
    });
    const { lambdas, ...rest } = timeouts(stack);
    expect(rest).toEqual(expected);
    expect(Object.keys(lambdas)).toHaveLength(5);
  });

  test('a shorter RedisSnapshot first no longer caps a later, longer one', () => {
    const { stack, group } = groupStack();
    new RedisSnapshot(stack, 'A', { replicationGroup: group, snapshotName: 'a', timeout: Duration.minutes(30) });
    new RedisSnapshot(stack, 'B', { replicationGroup: group, snapshotName: 'b', timeout: Duration.hours(1) });
    expect(timeouts(stack).snapshots).toEqual([['a', 1800], ['b', 3600]]);
  });
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

describe('backup.snapshotBeforeUpdate', () => {
  const withSnapshots = (extra: Partial<GroupProps> = {}, options: SnapshotBeforeUpdateOptions = {}) => groupStack({
    replicationGroupId: 'orders',
    ...extra,
    backup: { retention: Duration.days(15), snapshotBeforeUpdate: options, ...extra.backup },
  });

  test('the group depends on a resource that carries its properties (not its AUTH token), so CloudFormation updates that resource first', () => {
    const { stack, group, template } = withSnapshots();
    const t = template();
    const [[crId, cr]] = Object.entries(t.findResources('Custom::RedisPreUpdateSnapshot'));
    const groupResource = t.toJSON().Resources[stack.getLogicalId(group.cfnReplicationGroup)];
    expect(groupResource.DependsOn).toContain(crId);
    const { AuthToken, ...withoutToken } = groupResource.Properties;
    expect(AuthToken).toBeDefined();
    expect(cr.Properties).toEqual({
      ServiceToken: expect.anything(),
      ReplicationGroupId: 'orders',
      CacheClusterId: 'orders-002',
      SnapshotPrefix: 'pre-orders',
      Keep: 5,
      GroupProperties: withoutToken,
    });
    // A provider of its own, whose permissions name no group (the group depends on the resource).
    const policies = t.findResources('AWS::IAM::Policy');
    const own = Object.entries(policies).filter(([id]) => id.startsWith('CdkElastiCacheBackupPreUpdateProvider'));
    expect(own.length).toBeGreaterThan(0);
    expect(JSON.stringify(own)).not.toContain(stack.getLogicalId(group.cfnReplicationGroup));
  });

  test('a change of any group property changes the resource\'s properties; the AUTH token does not', () => {
    const props = (nodeType: string) => {
      const { template } = withSnapshots({ nodeType });
      return Object.values(template().findResources('Custom::RedisPreUpdateSnapshot'))[0].Properties.GroupProperties;
    };
    expect(props('cache.r7g.xlarge')).not.toEqual(props('cache.r7g.large'));
    expect(props('cache.r7g.large')).toEqual(props('cache.r7g.large'));
  });

  test('with a final snapshot and a RedisSnapshot in the same stack the template has no dependency cycle', () => {
    const { group, stack } = withSnapshots({ backup: { retention: Duration.days(15), finalSnapshotName: 'orders-final' } });
    new RedisSnapshot(stack, 'Manual', { replicationGroup: group, snapshotName: 'orders-manual' });
    expect(dependencyCycle(Template.fromStack(stack).toJSON())).toBeUndefined();
  });

  test('cluster mode enabled snapshots the whole group', () => {
    const { template } = withSnapshots({ clusterMode: ClusterMode.ENABLED, shards: 2 });
    template().hasResourceProperties('Custom::RedisPreUpdateSnapshot', { ReplicationGroupId: 'orders', CacheClusterId: Match.absent() });
  });

  test('the prefix and keep count can be given', () => {
    const { template } = withSnapshots({}, { prefix: 'orders-before', keep: 2 });
    template().hasResourceProperties('Custom::RedisPreUpdateSnapshot', { SnapshotPrefix: 'orders-before', Keep: 2 });
  });

  test.each<[string, Partial<GroupProps>, SnapshotBeforeUpdateOptions, string]>([
    ['a prefix too long', {}, { prefix: 'a'.repeat(25) },
      "backup.snapshotBeforeUpdate.prefix 'aaaaaaaaaaaaaaaaaaaaaaaaa' is 25 characters long; ElastiCache names are 1 to 40 lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'; the prefix is followed by '-YYYYMMDD-HHMMSS', so it has at most 24"],
    ['keep 0', {}, { keep: 0 }, 'backup.snapshotBeforeUpdate.keep is 0; keep at least 1 snapshot (a whole number)'],
    ['keep 1.5', {}, { keep: 1.5 }, 'backup.snapshotBeforeUpdate.keep is 1.5; keep at least 1 snapshot (a whole number)'],
    ['cache.t1.micro', { nodeType: 'cache.t1.micro', replicasPerShard: 0, backup: { retention: Duration.days(0) } }, {},
      "backup.snapshotBeforeUpdate is set but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault)"],
    ['a token group id', { replicationGroupId: Token.asString({ Ref: 'Id' }) }, {},
      'backup.snapshotBeforeUpdate is set but replicationGroupId is a token; the snapshot runs before the group is updated, so it cannot refer to the group and needs its id at synth time'],
  ])('%s is refused', (_name, extra, options, message) => {
    expect(() => withSnapshots(extra, options)).toThrow(new Error(message));
  });

  test('two groups with one prefix are refused at synth, naming both', () => {
    const { app, stack, vpc } = newStack();
    for (const id of ['A', 'B']) {
      new RedisReplicationGroup(stack, id, {
        vpc,
        nodeType: 'cache.r7g.large',
        replicationGroupId: `g-${id.toLowerCase()}`,
        backup: { retention: Duration.days(1), snapshotBeforeUpdate: { prefix: 'shared' } },
      });
    }
    expect(() => app.synth()).toThrow(/backup.snapshotBeforeUpdate.prefix 'shared' of Stack\/B is also the backup.snapshotBeforeUpdate.prefix of Stack\/A, in this app/);
  });

  test('cdk-nag AwsSolutions passes with the pre-update snapshot resource', () => {
    const { stack, group } = withSnapshots();
    Validations.of(group.cfnReplicationGroup).acknowledge({ id: 'AwsSolutions-AEC5', reason: 'test: port 6379 kept' });
    Validations.of(group.secret!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test: rotation not available' });
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`))).toEqual([]);
  });
});

/** A cycle among a template's resources (Ref, Fn::GetAtt, Fn::Sub and DependsOn), as CloudFormation would refuse it. */
function dependencyCycle(template: Record<string, any>): string[] | undefined {
  const resources = template.Resources as Record<string, any>;
  const edges = new Map<string, Set<string>>();
  for (const [id, r] of Object.entries(resources)) {
    const to = new Set<string>([r.DependsOn ?? []].flat());
    const walk = (v: any): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (!v || typeof v !== 'object') {
        if (typeof v === 'string') for (const m of v.matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) to.add(m[1]);
        return;
      }
      if (typeof v.Ref === 'string') to.add(v.Ref);
      if (v['Fn::GetAtt']) to.add([v['Fn::GetAtt']].flat()[0].split('.')[0]);
      Object.values(v).forEach(walk);
    };
    walk(r.Properties);
    edges.set(id, new Set([...to].filter((x) => x in resources)));
  }
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    if (state.get(id) === 'done') return undefined;
    state.set(id, 'open');
    for (const next of edges.get(id)!) {
      const cycle = visit(next, [...path, id]);
      if (cycle) return cycle;
    }
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id, []);
    if (cycle) return cycle;
  }
  return undefined;
}
