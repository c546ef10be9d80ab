/**
 * `StandbyRestore` at synth time: the state machine and what it may do (IAM), the network it runs in,
 * the rehearsal schedule and alarms, and every prop refused with its rule. Its runs are tested
 * against the local provider in test/local/standby-restore.test.ts.
 */
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { creatableVersion, standbyRequest } from '../lambda/handlers/standby-restore';
import { RestoreMode, SnapshotReplicaBucket, StandbyRestore, StandbyRestoreProps } from '../src';
import { ExportManifest } from '../src/private/export-workflow-contract';
import { CreateStandbyInput } from '../src/private/standby-restore-contract';

const ACCOUNT = '111111111111';

function drStack(props: Partial<StandbyRestoreProps> = {}, otherRegion = false) {
  const app = new App();
  const stack = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
  const elsewhere = new Stack(app, 'Elsewhere', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const replica = new SnapshotReplicaBucket(otherRegion ? elsewhere : stack, 'Replica');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const hostedZone = new route53.PrivateHostedZone(stack, 'Zone', { zoneName: 'corp.internal', vpc });
  const make = (id: string, extra: Partial<StandbyRestoreProps> = {}) => new StandbyRestore(stack, id, {
    replicaBucket: replica, snapshotPrefix: 'orders-x', vpc, hostedZone, recordName: 'orders', ...props, ...extra,
  });
  return { app, stack, replica, vpc, hostedZone, make };
}

function definitionOf(template: Template): any {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))
    // References (the functions' ARNs, the topic) sit inside JSON strings: a placeholder keeps it JSON.
    .map((m: any) => JSON.parse(m.Properties.DefinitionString['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'TOKEN')).join('')))
    // The stack's other state machine is the custom resource Provider framework's waiter.
    .filter((d: any) => d.StartAt === 'FindExport');
  expect(machines).toHaveLength(1);
  return machines[0];
}

test('the workflow: find, create, wait, check, then failover (UPSERT, wait for INSYNC) or rehearsal (delete its standby), record, publish', () => {
  const { stack, make } = drStack();
  make('Restore', { standbyIdPrefix: 'orders-standby' });
  const template = Template.fromStack(stack);
  const states = definitionOf(template).States;
  expect(Object.keys(states).sort()).toEqual([
    'CheckStandby', 'CountDnsCheck', 'CountStandbyCheck', 'CreateStandby', 'DeleteRehearsalStandby', 'DescribeStandby', 'DnsChangeIncomplete',
    'DnsInSync?', 'DnsResult', 'Done', 'Failed', 'Failover?', 'FindExport', 'GetDnsChange', 'MoveDns', 'NotifyFailure', 'NotifyResult',
    'RecordFailure', 'RecordRun', 'Rehearsal?', 'RestoreFailed', 'Result', 'StandbyAvailable?', 'StandbyIncomplete', 'WaitForDns', 'WaitForStandby',
  ]);
  // Waits sized to the operation; the status checks are bounded.
  expect(states.WaitForStandby.Seconds).toBe(300);
  expect(states.WaitForDns.Seconds).toBe(20);
  expect(states['StandbyAvailable?'].Choices.map((c: any) => c.Next)).toEqual(['CheckStandby', 'RestoreFailed', 'StandbyIncomplete']);
  expect(states['StandbyAvailable?'].Choices[2].NumericGreaterThanEquals).toBe(36);
  // Every task's failure is recorded and published once, then the run fails.
  for (const name of ['FindExport', 'CreateStandby', 'DescribeStandby', 'CheckStandby', 'MoveDns', 'GetDnsChange', 'RecordRun', 'DeleteRehearsalStandby']) {
    expect(states[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
  }
  expect(states.RecordFailure.Next).toBe('NotifyFailure');
  expect(states.NotifyFailure.Next).toBe('Failed');
  expect(states['Failover?'].Choices[0]).toEqual({ Variable: '$.found.mode', StringEquals: 'failover', Next: 'MoveDns' });
  expect(states['Failover?'].Default).toBe('RecordRun');
  expect(states.RecordRun.Parameters['now.$']).toBe('$$.State.EnteredTime');
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
});

test('IAM: the standby only under its own id prefix, the record only by name, type CNAME and UPSERT', () => {
  const { stack, make } = drStack();
  make('Restore', { standbyIdPrefix: 'orders-standby' });
  const template = Template.fromStack(stack);
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const actionsOf = (s: any): string[] => [].concat(s.Action);
  const create = statements.find((s: any) => actionsOf(s).includes('elasticache:CreateReplicationGroup'));
  expect(JSON.stringify(create.Resource)).toContain(':replicationgroup:orders-standby-*');
  expect(JSON.stringify(create.Resource)).toContain(':cluster:orders-standby-*');
  const upsert = statements.find((s: any) => s.Action === 'route53:ChangeResourceRecordSets');
  expect(upsert.Condition).toEqual({
    'ForAllValues:StringEquals': {
      'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['orders.corp.internal'],
      'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
      'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
    },
  });
  const deletes = statements.find((s: any) => actionsOf(s).includes('elasticache:deleteReplicationGroup'));
  expect(JSON.stringify(deletes.Resource)).toContain(':replicationgroup:orders-standby-*');
  expect(statements.some((s: any) => actionsOf(s).some((a: string) => /elasticache:(Delete|Modify)/.test(a) && !/deleteReplicationGroup/.test(a)))).toBe(false);
});

test('the check runs in the VPC and reaches only the standby on its port; HTTPS only to read an AUTH token', () => {
  const { stack, make } = drStack();
  const restore = make('Restore');
  const template = Template.fromStack(stack);
  const checkGroup = stack.getLogicalId(restore.node.findChild('CheckSecurityGroup').node.defaultChild as ec2.CfnSecurityGroup);
  expect(Object.values(template.findResources('AWS::EC2::SecurityGroupEgress'))
    .filter((r: any) => r.Properties.GroupId['Fn::GetAtt']?.[0] === checkGroup).map((r: any) => r.Properties.Description))
    .toEqual(['To the standby it checks']);
  const withToken = drStack();
  const tokenRestore = withToken.make('Restore', { authToken: new secretsmanager.Secret(withToken.stack, 'Token') });
  const tokenCheckGroup = withToken.stack.getLogicalId(tokenRestore.node.findChild('CheckSecurityGroup').node.defaultChild as ec2.CfnSecurityGroup);
  const egress = Template.fromStack(withToken.stack).findResources('AWS::EC2::SecurityGroup', {});
  expect(JSON.stringify(egress[tokenCheckGroup].Properties.SecurityGroupEgress)).toContain('To Secrets Manager (an interface endpoint, or through a NAT gateway)');
  template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.checkStandby', VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }) });
  template.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { SubnetIds: Match.anyValue() });
  template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
    GroupId: { 'Fn::GetAtt': [stack.getLogicalId(restore.standbySecurityGroup.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] },
    IpProtocol: 'tcp',
    FromPort: 6379,
    ToPort: 6379,
  });
  expect(restore.connections.securityGroups).toEqual([restore.standbySecurityGroup]);
});

test('port: the standby listens on it, and connections and the check\'s rules use it', () => {
  const { stack, make } = drStack();
  const restore = make('Restore', { port: 6380 });
  const appGroup = new ec2.SecurityGroup(stack, 'App', { vpc: stack.node.findChild('Vpc') as ec2.Vpc });
  restore.connections.allowDefaultPortFrom(appGroup);
  const ingress = Object.values(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => [r.Properties.FromPort, r.Properties.ToPort]);
  expect(ingress).toEqual([[6380, 6380], [6380, 6380]]);
  expect(JSON.stringify(definitionOf(Template.fromStack(stack)).States.CreateStandby.Parameters.shape)).toContain('"port":6380');
});

test('rehearsalSchedule: a rule that starts a rehearsal, and an alarm on failed rehearsals', () => {
  const { stack, make } = drStack();
  const restore = make('Restore', { rehearsalSchedule: events.Schedule.cron({ weekDay: 'SUN', hour: '3', minute: '0' }), standbyIdPrefix: 'orders-standby' });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'cron(0 3 ? * SUN *)',
    Targets: [Match.objectLike({ Input: '{"mode":"rehearsal"}' })],
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'CdkElastiCacheBackup/StandbyRestore',
    MetricName: 'FailedRuns',
    Dimensions: Match.arrayWith([{ Name: 'Mode', Value: 'rehearsal' }, { Name: 'Workflow', Value: 'orders-standby' }]),
  });
  expect(restore.rehearsalFailureAlarm).toBeDefined();
  expect(stack.resolve(restore.metricRecoveryTime().metricName)).toBe('RecoveryTimeSeconds');
  expect(restore.metricRecoveryPoint(RestoreMode.REHEARSAL).dimensions).toEqual({ Workflow: 'orders-standby', Mode: 'rehearsal' });
});

test('removing, renaming or replacing the StandbyRestore deletes no standby and no data: it declares no group, snapshot or custom resource', () => {
  // Standbys are created by runs, outside the stack: CloudFormation never holds them, so no change
  // to the app (the construct removed, its id renamed, its props changed) can delete one.
  const { make } = drStack();
  const restore = make('Restore');
  const types = restore.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource).map((r) => r.cfnResourceType);
  expect(types.length).toBeGreaterThan(10);
  expect(types.filter((t) => /^(AWS::ElastiCache::|Custom::|AWS::CloudFormation::CustomResource)/.test(t) && t !== 'AWS::ElastiCache::SubnetGroup')).toEqual([]);
});

test('without rehearsalSchedule there is no rule and no rehearsal alarm', () => {
  const { stack, make } = drStack();
  expect(make('Restore').rehearsalFailureAlarm).toBeUndefined();
  Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 0);
});

test.each<[string, Partial<StandbyRestoreProps>, string]>([
  ['a snapshotPrefix ElastiCache refuses', { snapshotPrefix: 'Orders_X' }, "snapshotPrefix 'Orders_X'"],
  ['a standbyIdPrefix too long for the stamp', { standbyIdPrefix: 'a'.repeat(27) },
    `standbyIdPrefix '${'a'.repeat(27)}' is 27 characters long; ElastiCache names are 1 to 40 lower-case letters, digits or hyphens, start with a letter, `
    + "and have no '--' and no trailing '-'; the prefix is followed by '-yymmdd-hhmmss', so it has at most 26"],
  ['AUTH without TLS', { transitEncryption: false, authToken: 'secret' as any }, 'authToken is set but transitEncryption is false; ElastiCache accepts an AUTH token only with in-transit encryption'],
  ['no automatic backups', { snapshotRetentionLimit: 0 }, "snapshotRetentionLimit is 0; keep the standby's automatic backups 1 to 35 days (a whole number)"],
  ['36 days of backups', { snapshotRetentionLimit: 36 }, "snapshotRetentionLimit is 36; keep the standby's automatic backups 1 to 35 days (a whole number)"],
  ['6 replicas', { replicasPerShard: 6 }, 'replicasPerShard is 6; ElastiCache allows 0 to 5 replicas per shard'],
  ['a TTL over 2 days', { recordTtl: Duration.days(3) },
    'recordTtl is 3 days; give whole seconds up to 2 days: resolvers keep answering with the old target for the TTL after a failover, so a longer one defeats it'],
  ['a TTL of 1.5 seconds', { recordTtl: Duration.millis(1500) }, 'recordTtl is 1 second 500 millis; give whole seconds up to 2 days'],
  ['a fully qualified name outside the zone', { recordName: 'orders.other.org.' },
    "recordName 'orders.other.org.' is fully qualified (a trailing dot) but not in the zone corp.internal; give a name in the zone, relative or fully qualified"],
  ['a port ElastiCache refuses', { port: 80 }, 'port is 80; ElastiCache accepts ports 1024 to 65535'],
  ['a node type without its cache. prefix', { nodeType: 'r7g.large' }, "nodeType 'r7g.large' is not an ElastiCache node type such as 'cache.r7g.large'"],
  ['a wait under a second', { waits: { dns: Duration.millis(500) } }, 'waits.dns is 500 millis; waits are at least 1 second'],
  ['a bound shorter than its wait', { bounds: { create: Duration.minutes(1) } }, 'bounds.create is 1 minute, shorter than waits.create (5 minutes); a bound holds at least one wait'],
  ['a timeout shorter than the bounds', { timeout: Duration.hours(1) }, "timeout is 1 hour but the workflow's waits can take up to 3 hours 15 minutes; give a longer timeout or shorter bounds"],
  ['a record at the apex', { recordName: 'corp.internal' }, "recordName 'corp.internal' is the zone's apex; a CNAME cannot be at the apex of corp.internal: give a name in the zone"],
  ['a record name that is not a DNS name', { recordName: 'or ders' }, "recordName 'or ders' is not a DNS name (letters, digits, hyphens and underscores in dot-separated labels)"],
])('%s is refused', (_name, props, message) => {
  const { make, stack } = drStack();
  if (props.authToken) {
    props = { ...props, authToken: new secretsmanager.Secret(stack, 'Token') };
  }
  expect(() => make('Restore', props)).toThrow(message);
});

test('a replica bucket in another region is refused: ElastiCache seeds only from its own region', () => {
  const { make } = drStack({}, true);
  expect(() => make('Restore')).toThrow('replicaBucket is in eu-west-1 but this StandbyRestore is in us-west-2; ElastiCache seeds a group only from objects in its own region');
});

test('two workflows with one standbyIdPrefix in one account and region fail synth', () => {
  const { app, make } = drStack();
  make('One', { standbyIdPrefix: 'orders-standby' });
  make('Two', { standbyIdPrefix: 'orders-standby' });
  expect(() => app.synth()).toThrow("standbyIdPrefix 'orders-standby-*' of Dr/Two is also the standbyIdPrefix of Dr/One, both in account 111111111111, region us-west-2; "
    + "the standbys are named <prefix>-yymmdd-hhmmss: two workflows with one prefix would see each other's groups as their own");
});

describe('the standby\'s CreateReplicationGroup request, shaped from the manifest', () => {
  const manifest = (clusterMode: 'enabled' | 'disabled', shards: Array<{ id: string; slots?: string }>): ExportManifest => ({
    manifestVersion: 1,
    runName: 'orders-x-20261122-030000',
    snapshotTime: '2026-11-22T03:05:00.000Z',
    writtenAt: '2026-11-22T03:20:00.000Z',
    source: { replicationGroupId: 'orders', region: 'eu-west-1', clusterMode, replicasPerShard: 2, port: 6380, engine: 'valkey', engineVersion: '8.0', cacheNodeType: 'cache.r7g.large' },
    shards: shards.map((sh, i) => ({ nodeGroupId: sh.id, slots: sh.slots, object: { key: `orders-x-20261122-030000-000${i + 1}.rdb`, size: 10, etag: '"e"' } })),
    objects: [],
  });
  const input = (m: ExportManifest, shape: Partial<CreateStandbyInput['shape']> = {}): CreateStandbyInput => ({
    step: 'createStandby',
    bucket: 'replica',
    grantObjectRead: false,
    workflow: 'orders-standby',
    executionName: 'run-1',
    found: {
      mode: 'failover',
      runName: m.runName,
      snapshotTime: m.snapshotTime,
      manifest: m,
      skipped: [],
      standbyId: 'orders-standby-261122-040000',
      objectArns: m.shards.map((sh) => `arn:aws:s3:::replica/${sh.object.key}`),
    },
    shape: { port: 6380, cacheSubnetGroupName: 'sg', securityGroupIds: ['sg-1'], transitEncryption: true, snapshotRetentionLimit: 7, multiAz: true, ...shape },
  });

  test.each([['7.1.0', '7.1'], ['6.2.6', '6.2'], ['8.0.1', '8.0'], ['8.0', '8.0'], ['5.0.6', '5.0.6'], ['4.0.10', '4.0.10']])(
    'a snapshot of engine version %s is restored as %s (from 6 on, ElastiCache creates by major.minor)', (reported, created) => {
      expect(creatableVersion(reported)).toBe(created);
    });

  test('cluster mode disabled: the engine, version, node type, port and replicas of the export; backups on; encrypted', () => {
    const r = standbyRequest(input(manifest('disabled', [{ id: '0001' }])));
    expect(r).toMatchObject({
      ReplicationGroupId: 'orders-standby-261122-040000',
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.r7g.large',
      Port: 6380,
      NumCacheClusters: 3,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      SnapshotRetentionLimit: 7,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      SnapshotArns: ['arn:aws:s3:::replica/orders-x-20261122-030000-0001.rdb'],
      CacheSubnetGroupName: 'sg',
      SecurityGroupIds: ['sg-1'],
    });
    expect(r.NodeGroupConfiguration).toBeUndefined();
  });

  test('cluster mode enabled: each shard keeps its slots; the props override node type and replicas', () => {
    const r = standbyRequest(input(manifest('enabled', [{ id: '0001', slots: '0-8191' }, { id: '0002', slots: '8192-16383' }]), { cacheNodeType: 'cache.r7g.xlarge', replicasPerShard: 0 }));
    expect(r).toMatchObject({ ClusterMode: 'enabled', NumNodeGroups: 2, ReplicasPerNodeGroup: 0, CacheNodeType: 'cache.r7g.xlarge', AutomaticFailoverEnabled: true, MultiAZEnabled: false });
    expect(r.NodeGroupConfiguration).toEqual([
      { NodeGroupId: '0001', Slots: '0-8191', ReplicaCount: 0 },
      { NodeGroupId: '0002', Slots: '8192-16383', ReplicaCount: 0 },
    ]);
  });

  test('cluster mode enabled without slots in the manifest: an even split', () => {
    const r = standbyRequest(input(manifest('enabled', [{ id: '0001' }, { id: '0002' }, { id: '0003' }])));
    expect(r.NodeGroupConfiguration!.map((g) => g.Slots)).toEqual(['0-5460', '5461-10922', '10923-16383']);
  });
});

test('the workflow describes itself in its state machine\'s metadata (what the local DR drill finds it by)', () => {
  const { stack, make } = drStack();
  const secret = new secretsmanager.Secret(stack, 'Token');
  const restore = make('Restore', { standbyIdPrefix: 'orders-standby', authToken: secret });
  const machine = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine')[stack.getLogicalId(restore.stateMachine.node.defaultChild as CfnResource)];
  expect(machine.Metadata['cdk-elasticache-backup:workflow']).toEqual({
    kind: 'standby-restore',
    replicaBucket: { Ref: expect.stringMatching(/^Replica/) },
    snapshotPrefix: 'orders-x',
    standbyIdPrefix: 'orders-standby',
    hostedZoneId: { Ref: expect.stringMatching(/^Zone/) },
    recordName: 'orders.corp.internal.',
    transitEncryption: true,
    authTokenSecretArn: { Ref: expect.stringMatching(/^Token/) },
  });
});
