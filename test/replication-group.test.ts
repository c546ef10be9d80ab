import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  BackupSource, CacheEngine, ClusterMode, DayOfWeek, ElastiCacheEngine, MaintenanceWindow, RedisAuthentication, RedisEngineVersion,
  RedisReplicationGroup, RestoreSource, SnapshotWindow, ValkeyEngineVersion,
} from '../src';
import { groupProperties, groupStack, newStack } from './util';

const ID = 'sessions';

describe('defaults', () => {
  test('a group with replicas takes 15-day backups from its first replica, encrypted, with AUTH', () => {
    const { template } = groupStack({ replicationGroupId: ID });
    const t = template();
    t.hasResource('AWS::ElastiCache::ReplicationGroup', {
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
      Properties: {
        ReplicationGroupId: ID,
        Engine: 'redis',
        EngineVersion: '7.1',
        CacheNodeType: 'cache.r7g.large',
        ClusterMode: 'disabled',
        NumCacheClusters: 2,
        AutomaticFailoverEnabled: true,
        MultiAZEnabled: true,
        Port: 6379,
        AtRestEncryptionEnabled: true,
        TransitEncryptionEnabled: true,
        TransitEncryptionMode: 'required',
        AuthToken: Match.anyValue(),
        SnapshotRetentionLimit: 15,
        SnapshottingClusterId: `${ID}-002`,
        SnapshotWindow: Match.absent(),
        PreferredMaintenanceWindow: Match.absent(),
        SnapshotName: Match.absent(),
        SnapshotArns: Match.absent(),
        NodeGroupConfiguration: Match.absent(),
        CacheParameterGroupName: Match.absent(),
      },
    });
    t.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: [{ Ref: Match.stringLikeRegexp('VpccacheSubnet1') }, { Ref: Match.stringLikeRegexp('VpccacheSubnet2') }],
    });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    t.resourceCountIs('AWS::ElastiCache::ParameterGroup', 0);
    // No inbound rule until the user opens one.
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Redis replication group Stack/Cache',
      SecurityGroupIngress: Match.absent(),
    });
  });

  test('the AUTH token is read from the generated secret', () => {
    const { template } = groupStack();
    const secretId = Object.keys(template().findResources('AWS::SecretsManager::Secret'))[0];
    expect(groupProperties(template()).AuthToken).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']],
    });
  });

  test('a single-node group backs up from its only node, without Multi-AZ', () => {
    const { template } = groupStack({ replicationGroupId: ID, replicasPerShard: 0 });
    expect(groupProperties(template())).toMatchObject({
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
      MultiAZEnabled: false,
      SnapshottingClusterId: `${ID}-001`,
    });
  });

  test.each([
    ['Stack', 'Cache'],
    ['AVeryLongStackNameThatGoesOnAndOnForeverAndEver', 'AnEvenLongerConstructIdThatWouldNotFitInFortyCharacters'],
    ['Stack-With--Hyphens', 'Cache_Group.v2--'],
  ])('the default id for %s/%s follows ElastiCache rules and is stable', (stackId, groupId) => {
    const make = () => {
      const { stack, vpc } = newStack(stackId);
      return new RedisReplicationGroup(stack, groupId, { vpc, nodeType: 'cache.r7g.large' });
    };
    const group = make();
    const id = group.cfnReplicationGroup.replicationGroupId!;
    expect(id).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$/);
    expect(id.length).toBeLessThanOrEqual(40);
    expect(make().cfnReplicationGroup.replicationGroupId).toEqual(id);
    expect(group.snapshottingClusterId).toEqual(`${id}-002`);
  });

  test('two groups in one stack get different default ids', () => {
    const { stack, vpc } = newStack();
    const a = new RedisReplicationGroup(stack, 'A', { vpc, nodeType: 'cache.r7g.large' });
    const b = new RedisReplicationGroup(stack, 'B', { vpc, nodeType: 'cache.r7g.large' });
    expect(a.cfnReplicationGroup.replicationGroupId).not.toEqual(b.cfnReplicationGroup.replicationGroupId);
  });
});

describe('backup plan', () => {
  test('retention, window and maintenance window reach the template', () => {
    const { template } = groupStack({
      backup: { retention: Duration.days(7), window: SnapshotWindow.fromString('05:00-06:00') },
      maintenanceWindow: MaintenanceWindow.fromString('sun:23:00-mon:00:30'),
    });
    expect(groupProperties(template())).toMatchObject({
      SnapshotRetentionLimit: 7,
      SnapshotWindow: '05:00-06:00',
      PreferredMaintenanceWindow: 'sun:23:00-mon:00:30',
    });
  });

  test.each([
    ['BackupSource.primary()', BackupSource.primary(), 2, `${ID}-001`],
    ['BackupSource.replica()', BackupSource.replica(), 2, `${ID}-002`],
    ['BackupSource.member(-003)', BackupSource.member(`${ID}-003`), 2, `${ID}-003`],
    ['default with 3 replicas', undefined, 3, `${ID}-002`],
  ])('%s sets SnapshottingClusterId', (_name, source, replicas, expected) => {
    const { template, group } = groupStack({
      replicationGroupId: ID,
      replicasPerShard: replicas,
      backup: { retention: Duration.days(1), source },
    });
    expect(groupProperties(template()).SnapshottingClusterId).toEqual(expected);
    expect(group.snapshottingClusterId).toEqual(expected);
  });

  test('retention 0 turns automatic backups off and sets no snapshotting node', () => {
    const { template } = groupStack({ backup: { retention: Duration.days(0) } });
    expect(groupProperties(template())).toMatchObject({ SnapshotRetentionLimit: 0 });
    expect(groupProperties(template()).SnapshottingClusterId).toBeUndefined();
    expect(groupProperties(template()).SnapshotWindow).toBeUndefined();
  });

  test('retention 0 with a window warns that the window is not used', () => {
    const { stack } = groupStack({ backup: { retention: Duration.days(0), window: SnapshotWindow.fromString('05:00-06:00') } });
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('backup.retention is 0 days, so automatic backups are off'));
    expect(groupProperties(Template.fromStack(stack)).SnapshotWindow).toBeUndefined();
  });

  test('a snapshot window may cross midnight', () => {
    const { template } = groupStack({
      backup: { retention: Duration.days(1), window: SnapshotWindow.fromString('23:30-00:30') },
      maintenanceWindow: MaintenanceWindow.fromString('wed:01:00-wed:02:00'),
    });
    expect(groupProperties(template()).SnapshotWindow).toEqual('23:30-00:30');
  });

  test('windows that only touch do not overlap', () => {
    const { template } = groupStack({
      backup: { retention: Duration.days(1), window: SnapshotWindow.fromString('05:00-06:00') },
      maintenanceWindow: MaintenanceWindow.fromString('tue:06:00-tue:07:00'),
    });
    expect(groupProperties(template()).SnapshotWindow).toEqual('05:00-06:00');
  });
});

describe('typed windows', () => {
  test.each([
    [SnapshotWindow.startingAt({ hour: 5 }), '05:00-06:00'],
    [SnapshotWindow.startingAt({ hour: 23, minute: 30, duration: Duration.minutes(90) }), '23:30-01:00'],
    [SnapshotWindow.startingAt({ hour: 0, duration: Duration.hours(3) }), '00:00-03:00'],
  ])('snapshot window %# is %s', (window, text) => {
    expect(window.toString()).toEqual(text);
  });

  test.each([
    [MaintenanceWindow.startingAt({ day: DayOfWeek.SUNDAY, hour: 23, duration: Duration.minutes(90) }), 'sun:23:00-mon:00:30'],
    [MaintenanceWindow.startingAt({ day: DayOfWeek.SATURDAY, hour: 23, minute: 15, duration: Duration.hours(2) }), 'sat:23:15-sun:01:15'],
    [MaintenanceWindow.startingAt({ day: DayOfWeek.WEDNESDAY, hour: 4 }), 'wed:04:00-wed:05:00'],
  ])('maintenance window %# is %s', (window, text) => {
    expect(window.toString()).toEqual(text);
  });

  test('typed windows reach the template', () => {
    const { template } = groupStack({
      backup: { retention: Duration.days(3), window: SnapshotWindow.startingAt({ hour: 2, duration: Duration.hours(2) }) },
      maintenanceWindow: MaintenanceWindow.startingAt({ day: DayOfWeek.MONDAY, hour: 4, minute: 30 }),
    });
    expect(groupProperties(template())).toMatchObject({
      SnapshotWindow: '02:00-04:00',
      PreferredMaintenanceWindow: 'mon:04:30-mon:05:30',
    });
  });
});

describe('cluster mode enabled', () => {
  test('shards and replicas become node groups, backups are taken at group level', () => {
    const { template, group } = groupStack({ replicationGroupId: ID, clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 2 });
    const props = groupProperties(template());
    expect(props).toMatchObject({
      ClusterMode: 'enabled',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 2,
      AutomaticFailoverEnabled: true,
      CacheParameterGroupName: 'default.redis7.cluster.on',
      SnapshotRetentionLimit: 15,
    });
    expect(props.NumCacheClusters).toBeUndefined();
    expect(props.SnapshottingClusterId).toBeUndefined();
    expect(group.snapshottingClusterId).toBeUndefined();
  });

  test('automatic failover stays on without replicas', () => {
    const { template } = groupStack({ clusterMode: ClusterMode.ENABLED, shards: 2, replicasPerShard: 0 });
    expect(groupProperties(template())).toMatchObject({ AutomaticFailoverEnabled: true, MultiAZEnabled: false });
  });

  test('parameters make a parameter group with cluster-enabled yes, in the family of the engine', () => {
    const { template } = groupStack({
      clusterMode: ClusterMode.ENABLED,
      engineVersion: '6.2',
      parameters: { 'reserved-memory-percent': '30' },
    });
    template().hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: 'redis6.x',
      Properties: { 'reserved-memory-percent': '30', 'cluster-enabled': 'yes' },
    });
    expect(groupProperties(template()).CacheParameterGroupName).toEqual({ Ref: expect.stringMatching(/^CacheParameterGroup/) });
    // Redis 6 has no TransitEncryptionMode.
    expect(groupProperties(template()).TransitEncryptionMode).toBeUndefined();
  });

  test.each([
    ['7.1', 'redis7'],
    ['7.0', 'redis7'],
    ['6.x', 'redis6.x'],
    ['5.0.6', 'redis5.0'],
    ['4.0.10', 'redis4.0'],
  ])('engine %s uses parameter group family %s', (engineVersion, family) => {
    const { template } = groupStack({ engineVersion, parameters: { 'maxmemory-policy': 'volatile-lru' } });
    template().hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      CacheParameterGroupFamily: family,
      Properties: { 'maxmemory-policy': 'volatile-lru' },
    });
  });
});

describe('Valkey', () => {
  const valkey8 = ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_8_0);

  test('a Valkey 8 group with cluster mode disabled: engine valkey 8.0, TLS required, the default parameter group', () => {
    const { template, group } = groupStack({ replicationGroupId: ID, engine: valkey8 });
    expect(groupProperties(template())).toMatchObject({
      Engine: 'valkey',
      EngineVersion: '8.0',
      ReplicationGroupDescription: 'Valkey replication group Stack/Cache',
      ClusterMode: 'disabled',
      NumCacheClusters: 2,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AuthToken: expect.anything(),
      SnapshotRetentionLimit: 15,
      SnapshottingClusterId: `${ID}-002`,
    });
    expect(groupProperties(template()).CacheParameterGroupName).toBeUndefined();
    expect(group.engine.engine).toBe(CacheEngine.VALKEY);
    expect(group.engine.engineVersion).toBe('8.0');
  });

  test('a Valkey 8 group with cluster mode enabled uses default.valkey8.cluster.on', () => {
    const { template } = groupStack({ engine: valkey8, clusterMode: ClusterMode.ENABLED, shards: 3 });
    expect(groupProperties(template())).toMatchObject({
      Engine: 'valkey',
      EngineVersion: '8.0',
      ClusterMode: 'enabled',
      NumNodeGroups: 3,
      ReplicasPerNodeGroup: 1,
      CacheParameterGroupName: 'default.valkey8.cluster.on',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
    });
  });

  test.each([
    [ValkeyEngineVersion.VER_7_2, 'valkey7'],
    [ValkeyEngineVersion.VER_8_0, 'valkey8'],
    [ValkeyEngineVersion.VER_8_1, 'valkey8'],
    [ValkeyEngineVersion.VER_8_2, 'valkey8'],
    [ValkeyEngineVersion.VER_9_0, 'valkey9'],
    [ValkeyEngineVersion.VER_9_1, 'valkey9'],
  ])('Valkey %p uses parameter group family %s', (version, family) => {
    const { template } = groupStack({ engine: ElastiCacheEngine.valkey(version), parameters: { 'maxmemory-policy': 'noeviction' } });
    template().hasResourceProperties('AWS::ElastiCache::ParameterGroup', { CacheParameterGroupFamily: family });
    expect(groupProperties(template()).EngineVersion).toBe(version.version);
  });

  test('transit encryption off is still written out, as CloudFormation requires for a new Valkey group', () => {
    const { template } = groupStack({ engine: valkey8, transitEncryption: false });
    const props = groupProperties(template());
    expect(props.TransitEncryptionEnabled).toBe(false);
    expect(props.TransitEncryptionMode).toBeUndefined();
    expect(props.AuthToken).toBeUndefined();
  });

  test('Valkey accepts role-based access control', () => {
    const { template } = groupStack({ engine: ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_7_2), authentication: RedisAuthentication.userGroups(['app']) });
    expect(groupProperties(template())).toMatchObject({ Engine: 'valkey', UserGroupIds: ['app'] });
  });

  test('ElastiCacheEngine.redis gives the Redis OSS version, and the default is Redis OSS 7.1', () => {
    const typed = groupProperties(groupStack({ engine: ElastiCacheEngine.redis(RedisEngineVersion.VER_6_2) }).template());
    expect(typed).toMatchObject({ Engine: 'redis', EngineVersion: '6.2' });
    const { group } = groupStack();
    expect(`${group.engine}`).toBe('Redis OSS 7.1');
  });
});

describe('restore', () => {
  test('from a snapshot sets SnapshotName and warns that changing it replaces the group', () => {
    const { template, stack } = groupStack({ restoreFrom: RestoreSource.fromSnapshot('before-upgrade') });
    expect(groupProperties(template()).SnapshotName).toEqual('before-upgrade');
    Annotations.fromStack(stack).hasWarning('/Stack/Cache', Match.stringLikeRegexp('create-only property: changing, adding or removing it replaces the replication group'));
  });

  test('from an automatic snapshot', () => {
    const { template } = groupStack({ restoreFrom: RestoreSource.fromSnapshot('automatic.sessions-2026-11-20-05-00') });
    expect(groupProperties(template()).SnapshotName).toEqual('automatic.sessions-2026-11-20-05-00');
  });

  test('a group without restoreFrom has no replacement warning', () => {
    const { stack } = groupStack();
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('restoreFrom'));
  });

  test('from RDB files with cluster mode enabled generates the slot ranges of every shard', () => {
    const arns = [1, 2, 3].map((i) => `arn:aws:s3:::seed-bucket/catalog-000${i}.rdb`);
    const { template } = groupStack({
      clusterMode: ClusterMode.ENABLED,
      shards: 3,
      replicasPerShard: 1,
      restoreFrom: RestoreSource.fromRdbObjectArns(arns),
    });
    expect(groupProperties(template())).toMatchObject({
      SnapshotArns: arns,
      NumNodeGroups: 3,
      NodeGroupConfiguration: [
        { NodeGroupId: '0001', Slots: '0-5460', ReplicaCount: 1 },
        { NodeGroupId: '0002', Slots: '5461-10922', ReplicaCount: 1 },
        { NodeGroupId: '0003', Slots: '10923-16383', ReplicaCount: 1 },
      ],
    });
  });

  test('from a bucket builds the object ARNs', () => {
    const { stack, vpc } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Seeds', 'seed-bucket');
    new RedisReplicationGroup(stack, 'Cache', {
      vpc,
      nodeType: 'cache.r7g.large',
      restoreFrom: RestoreSource.fromBucket(bucket, ['sessions/seed-0001.rdb']),
    });
    expect(groupProperties(Template.fromStack(stack)).SnapshotArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::seed-bucket/sessions/seed-0001.rdb']] },
    ]);
  });

  test('a data-tiering snapshot restores into a data-tiering node type, with data tiering on', () => {
    const { template } = groupStack({
      nodeType: 'cache.r6gd.xlarge',
      restoreFrom: RestoreSource.fromSnapshot('tiered', { sourceNodeType: 'cache.r6gd.large' }),
    });
    expect(groupProperties(template())).toMatchObject({ DataTieringEnabled: true, SnapshotName: 'tiered' });
  });
});

describe('removal policy', () => {
  test.each([
    [RemovalPolicy.RETAIN, 'Retain'],
    [RemovalPolicy.DESTROY, 'Delete'],
    [RemovalPolicy.SNAPSHOT, 'Snapshot'],
  ])('%s applies on deletion and replacement', (removalPolicy, policy) => {
    const { template } = groupStack({ removalPolicy });
    template().hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: policy, UpdateReplacePolicy: policy });
  });

  const own = ['AWS::SecretsManager::Secret', 'AWS::ElastiCache::SubnetGroup', 'AWS::EC2::SecurityGroup', 'AWS::ElastiCache::ParameterGroup'];
  test.each([
    [RemovalPolicy.RETAIN, 'Retain', 'Retain'],
    [RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, 'RetainExceptOnCreate', 'Retain'],
  ])('a group that outlives the stack (%s) keeps its AUTH token, subnet group, security group and parameter group', (removalPolicy, deletion, replace) => {
    const { template } = groupStack({ removalPolicy, parameters: { 'maxmemory-policy': 'noeviction' } });
    const t = template();
    for (const type of own) {
      t.resourceCountIs(type, 1);
      t.hasResource(type, { DeletionPolicy: deletion, UpdateReplacePolicy: replace });
    }
  });

  test.each([
    ['the default (SNAPSHOT)', {}],
    ['DESTROY', { removalPolicy: RemovalPolicy.DESTROY }],
    ['a named final snapshot', { backup: { retention: Duration.days(1), finalSnapshotName: 'last' } }],
  ])('with %s the group leaves with the stack, and so does what the construct made for it', (_name, props) => {
    const { template } = groupStack({ ...props, parameters: { 'maxmemory-policy': 'noeviction' } });
    const t = template();
    for (const type of own) {
      const resources = Object.values(t.findResources(type));
      expect(resources).toHaveLength(1);
      expect(resources[0].DeletionPolicy ?? 'Delete').toBe('Delete');
    }
  });

  test('a security group and secret the user gives are left as they are', () => {
    const { stack, vpc } = newStack();
    const sg = new ec2.SecurityGroup(stack, 'Mine', { vpc });
    const secret = new secretsmanager.Secret(stack, 'MyToken');
    new RedisReplicationGroup(stack, 'Cache', {
      vpc, nodeType: 'cache.r7g.large', removalPolicy: RemovalPolicy.RETAIN, securityGroups: [sg], authentication: RedisAuthentication.authToken({ secret }),
    });
    const t = Template.fromStack(stack);
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::EC2::SecurityGroup']) {
      for (const r of Object.values(t.findResources(type))) expect(r.DeletionPolicy ?? 'Delete').toBe('Delete');
    }
    t.hasResource('AWS::ElastiCache::SubnetGroup', { DeletionPolicy: 'Retain' });
  });
});

describe('authentication and encryption', () => {
  test('user groups replace the AUTH token', () => {
    const { template, group } = groupStack({ authentication: RedisAuthentication.userGroups(['app-users']) });
    expect(groupProperties(template())).toMatchObject({ UserGroupIds: ['app-users'] });
    expect(groupProperties(template()).AuthToken).toBeUndefined();
    template().resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(group.secret).toBeUndefined();
  });

  test('a given secret is used as is', () => {
    const { stack, vpc } = newStack();
    const secret = new secretsmanager.Secret(stack, 'Token');
    const group = new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large', authentication: RedisAuthentication.authToken({ secret }) });
    expect(group.secret).toBe(secret);
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::Secret', 1);
  });

  test('the generated secret can be encrypted with a customer managed key', () => {
    const { stack, vpc } = newStack();
    const key = new kms.Key(stack, 'Key');
    new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large', authentication: RedisAuthentication.authToken({ encryptionKey: key }) });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
  });

  test('without transit encryption there is no authentication by default', () => {
    const { template } = groupStack({ transitEncryption: false });
    const props = groupProperties(template());
    expect(props.TransitEncryptionEnabled).toBe(false);
    expect(props.TransitEncryptionMode).toBeUndefined();
    expect(props.AuthToken).toBeUndefined();
  });

  test('a KMS key encrypts data at rest', () => {
    const { stack, vpc } = newStack();
    const key = new kms.Key(stack, 'Key');
    new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large', encryptionKey: key });
    expect(groupProperties(Template.fromStack(stack))).toMatchObject({
      AtRestEncryptionEnabled: true,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
    });
  });
});

describe('attributes, connections, grants and metrics', () => {
  test('endpoints follow the cluster mode', () => {
    const disabled = groupStack().group;
    expect(Stack.of(disabled).resolve(disabled.endpointAddress)).toEqual({
      'Fn::GetAtt': [Stack.of(disabled).getLogicalId(disabled.cfnReplicationGroup), 'PrimaryEndPoint.Address'],
    });
    expect(Stack.of(disabled).resolve(disabled.readerEndpointAddress)).toEqual({
      'Fn::GetAtt': [Stack.of(disabled).getLogicalId(disabled.cfnReplicationGroup), 'ReaderEndPoint.Address'],
    });
    const enabled = groupStack({ clusterMode: ClusterMode.ENABLED }).group;
    expect(Stack.of(enabled).resolve(enabled.endpointAddress)).toEqual({
      'Fn::GetAtt': [Stack.of(enabled).getLogicalId(enabled.cfnReplicationGroup), 'ConfigurationEndPoint.Address'],
    });
    expect(enabled.readerEndpointAddress).toBeUndefined();
  });

  test('id and ARN come from the resource', () => {
    const { group, stack } = groupStack();
    const logicalId = stack.getLogicalId(group.cfnReplicationGroup);
    expect(stack.resolve(group.replicationGroupId)).toEqual({ Ref: logicalId });
    expect(stack.resolve(group.replicationGroupArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:eu-west-1:111111111111:replicationgroup:', { Ref: logicalId }]],
    });
  });

  test('connections open the group port', () => {
    const { stack, vpc, group } = groupStack({ port: 6380 });
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc });
    group.connections.allowDefaultPortFrom(client);
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6380,
      ToPort: 6380,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Client'), 'GroupId'] },
    });
  });

  test('grantCreateSnapshot allows the snapshot and polling it, on the group, its members and its snapshots', () => {
    const { stack, group } = groupStack({ replicationGroupId: ID });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    group.grantCreateSnapshot(role, 'nightly-*');
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:eu-west-1:111111111111:${resource}`]] });
    const groupArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:eu-west-1:111111111111:replicationgroup:', { Ref: Match.anyValue() }]] };
    const memberArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:eu-west-1:111111111111:cluster:', { Ref: Match.anyValue() }, '-*']] };
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Action: 'elasticache:CreateSnapshot', Effect: 'Allow', Resource: [groupArn, memberArn, arn('snapshot:nightly-*')] },
          { Action: ['elasticache:DescribeSnapshots', 'elasticache:AddTagsToResource'], Effect: 'Allow', Resource: arn('snapshot:nightly-*') },
        ],
      },
    });
  });

  test('grantDescribe allows describing the group and its members', () => {
    const { stack, group } = groupStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    group.grantDescribe(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: 'elasticache:DescribeReplicationGroups' }),
          Match.objectLike({ Action: 'elasticache:DescribeCacheClusters' }),
        ],
      },
    });
  });

  test.each([
    ['metricDatabaseMemoryUsagePercentage', 'DatabaseMemoryUsagePercentage', `${ID}-001`],
    ['metricReplicationLag', 'ReplicationLag', `${ID}-002`],
    ['metricSaveInProgress', 'SaveInProgress', `${ID}-001`],
  ])('%s reports %s of member %s by default', (method, metricName, member) => {
    const imported = RedisReplicationGroup.fromReplicationGroupAttributes(newStack().stack, 'Imported', { replicationGroupId: ID });
    const metric = (imported as any)[method]();
    expect(metric.metricName).toEqual(metricName);
    expect(metric.namespace).toEqual('AWS/ElastiCache');
    expect(metric.dimensions).toEqual({ CacheClusterId: member });
    expect(metric.statistic).toEqual('Maximum');
    expect(metric.period.toMinutes()).toEqual(5);
  });

  test('metrics of a cluster mode enabled group name the first shard, or the member asked for', () => {
    const imported = RedisReplicationGroup.fromReplicationGroupAttributes(newStack().stack, 'Imported', {
      replicationGroupId: ID, clusterMode: ClusterMode.ENABLED,
    });
    expect(imported.metricReplicationLag().dimensions).toEqual({ CacheClusterId: `${ID}-0001-002` });
    expect(imported.metricSaveInProgress({ memberId: `${ID}-0003-001` }).dimensions).toEqual({ CacheClusterId: `${ID}-0003-001` });
  });

  test('an imported group has an ARN, a port and connections', () => {
    const { stack, vpc } = newStack();
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const imported = RedisReplicationGroup.fromReplicationGroupAttributes(stack, 'Imported', {
      replicationGroupId: ID, port: 6390, securityGroups: [sg],
    });
    expect(stack.resolve(imported.replicationGroupArn)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:elasticache:eu-west-1:111111111111:replicationgroup:${ID}`]],
    });
    expect(imported.connections.defaultPort?.toString()).toEqual('6390');
    expect(imported.clusterMode).toEqual(ClusterMode.DISABLED);
  });
});

describe('AUTH token rotation', () => {
  function rotated(rotationEndpoints?: boolean): Template {
    const { stack, vpc } = newStack();
    new RedisReplicationGroup(stack, 'Cache', {
      vpc, nodeType: 'cache.r7g.large', authentication: RedisAuthentication.authToken({ rotation: Duration.days(30), rotationEndpoints }),
    });
    return Template.fromStack(stack);
  }

  test('a rotation function in the group\'s VPC, on the schedule, after the group, with only its own permissions', () => {
    const t = rotated();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Timeout: 900,
      VpcConfig: Match.objectLike({ SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheAuthTokenRotationSecurityGroup'), 'GroupId'] }] }),
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', REPLICATION_GROUP_ID: { Ref: 'Cache18F6EE16' } } },
    });
    t.hasResource('AWS::SecretsManager::RotationSchedule', {
      Properties: { SecretId: { Ref: Match.stringLikeRegexp('^CacheAuthToken') }, RotationRules: { ScheduleExpression: 'rate(30 days)' } },
      DependsOn: Match.arrayWith(['Cache18F6EE16']),
    });
    const statements = Object.entries(t.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('CacheAuthTokenRotation'))
      .flatMap(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement.map((s: any) => [s.Action, JSON.stringify(s.Resource)]));
    expect(statements).toEqual([
      [['elasticache:ModifyReplicationGroup', 'elasticache:DescribeReplicationGroups'], expect.stringContaining(':replicationgroup:",{"Ref":"Cache18F6EE16"}')],
      [['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        JSON.stringify({ Ref: Object.keys(t.findResources('AWS::SecretsManager::Secret'))[0] })],
      ['secretsmanager:GetRandomPassword', '"*"'],
    ]);
    // The nodes let the function in on their port; the function goes out only to them and to HTTPS.
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp' });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'AUTH token rotation of Stack/Cache',
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: 'AUTH token rotation calls the Secrets Manager and ElastiCache APIs' }],
    });
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('rotationEndpoints adds Secrets Manager and ElastiCache interface endpoints, and HTTPS goes only to them', () => {
    const t = rotated(true);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    for (const service of ['secretsmanager', 'elasticache']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: Match.stringLikeRegexp(`\\.${service}$`), PrivateDnsEnabled: true, VpcEndpointType: 'Interface' });
    }
    const egress = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')).map((r: any) => r.Properties.FromPort).sort();
    expect(egress).toEqual([443, 443, 6379]);
  });
});
