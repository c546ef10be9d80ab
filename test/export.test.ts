/**
 * SnapshotExportBucket, SnapshotReplicaBucket and ScheduledSnapshotExport as synthesized: what the
 * templates declare, the rules checked at synth time, and cdk-nag AwsSolutions.
 */
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  BackupSource, ClusterMode, ElastiCacheBucketAccess, RedisReplicationGroup, ScheduledSnapshotExport, ScheduledSnapshotExportProps,
  ReplicaObjectLock, SnapshotExportBucket, SnapshotExportBucketProps, SnapshotReplicaBucket, SnapshotReplicaBucketProps,
} from '../src';

const ACCOUNT = '111111111111';

function app(region = 'eu-west-1', drRegion = 'us-west-2', replicaProps: SnapshotReplicaBucketProps = {}) {
  const a = new App();
  const dr = new Stack(a, 'Dr', { env: { account: ACCOUNT, region: drRegion } });
  const main = new Stack(a, 'Main', { env: { account: ACCOUNT, region } });
  const vpc = new ec2.Vpc(main, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const replica = new SnapshotReplicaBucket(dr, 'Replica', replicaProps);
  return { app: a, dr, main, vpc, replica };
}

function exportApp(bucketProps: SnapshotExportBucketProps = {}, workflow: Partial<ScheduledSnapshotExportProps> = {}, region?: string,
  replicaProps: SnapshotReplicaBucketProps = {}) {
  const a = app(region, undefined, replicaProps);
  const group = new RedisReplicationGroup(a.main, 'Cache', { vpc: a.vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders' });
  const exportBucket = new SnapshotExportBucket(a.main, 'Exports', { replica: a.replica, ...bucketProps });
  const flow = new ScheduledSnapshotExport(a.main, 'Nightly', { replicationGroup: group, exportBucket, ...workflow });
  return { ...a, group, exportBucket, flow };
}

function definition(stack: Stack, machine = 'NightlyStateMachine'): any {
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const ours = Object.entries<any>(machines).find(([id]) => id.startsWith(machine))![1];
  const body = stack.resolve(ours.Properties.DefinitionString);
  const text = body['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
  return JSON.parse(text.replace(/<\{[^>]*\}>/g, 'TOKEN'));
}

describe('SnapshotExportBucket', () => {
  test('in a region launched before 2019-03-20: ACLs on, ElastiCache granted by a custom resource, no bucket policy statement for it', () => {
    const { main, exportBucket } = exportApp();
    expect(exportBucket.elastiCacheAccess).toBe(ElastiCacheBucketAccess.CANONICAL_USER_ACL);
    const t = Template.fromStack(main);
    t.hasResourceProperties('AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({
          NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        })],
      },
    });
    t.hasResourceProperties('Custom::SnapshotExportBucketAcl', {
      CanonicalUserId: '540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353',
      Permissions: ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'],
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    // TLS is enforced; no statement names ElastiCache's service principal.
    const policy = JSON.stringify(t.findResources('AWS::S3::BucketPolicy'));
    expect(policy).toContain('aws:SecureTransport');
    expect(policy).not.toContain('elasticache-snapshot');
  });

  test('in an opt-in region: the regional service principal in the bucket policy, ACLs stay off', () => {
    const { main, exportBucket } = exportApp({}, {}, 'ap-southeast-3');
    expect(exportBucket.elastiCacheAccess).toBe(ElastiCacheBucketAccess.SERVICE_PRINCIPAL_POLICY);
    const t = Template.fromStack(main);
    t.resourceCountIs('Custom::SnapshotExportBucketAcl', 0);
    t.hasResourceProperties('AWS::S3::Bucket', { OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ElastiCacheExportBucket',
            Principal: { Service: 'ap-southeast-3.elasticache-snapshot.amazonaws.com' },
            Action: Match.arrayWith(['s3:ListBucket', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads']),
          }),
          Match.objectLike({
            Sid: 'ElastiCacheExportObjects',
            Principal: { Service: 'ap-southeast-3.elasticache-snapshot.amazonaws.com' },
            Action: Match.arrayWith(['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts']),
          }),
        ]),
      },
    });
  });

  test('replicates every object (not deletions, by default) to the replica, with its own role; the replica stack deploys first', () => {
    const { main, dr, replica } = exportApp();
    // The replica's name is generated by CDK, because the export bucket's stack refers to it.
    void replica;
    const replicaName = Object.values<any>(Template.fromStack(dr).findResources('AWS::S3::Bucket'))[0].Properties.BucketName;
    expect(replicaName).toMatch(/^[a-z0-9-]+$/);
    Template.fromStack(main).hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExportsReplicationRole'), 'Arn'] },
        Rules: [Match.objectLike({
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: '' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          Destination: { Bucket: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${replicaName}`]] } },
        })],
      },
    });
    Template.fromStack(dr).hasResourceProperties('AWS::S3::Bucket', { BucketName: replicaName, VersioningConfiguration: { Status: 'Enabled' } });
    expect(main.dependencies).toContain(dr);
  });

  test('the replica keeps each copy 35 days whatever happens in the primary region, and lets ElastiCache there read it (ACL)', () => {
    const { dr, replica } = app();
    expect(replica.retention.toDays()).toBe(35);
    expect(replica.replicateDeletes).toBe(false);
    const t = Template.fromStack(dr);
    t.hasResourceProperties('AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 35, NoncurrentVersionExpiration: { NoncurrentDays: 30 } })] },
      ObjectLockEnabled: Match.absent(),
    });
    t.hasResourceProperties('Custom::SnapshotExportBucketAcl', {
      CanonicalUserId: '540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353', Permissions: ['READ', 'READ_ACP'],
    });
  });

  test('replicated deletions keep the copy as a noncurrent version for the retention', () => {
    const { main, dr } = exportApp({}, {}, undefined, { replicateDeletes: true, retention: Duration.days(90) });
    Template.fromStack(main).hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: { Rules: [Match.objectLike({ DeleteMarkerReplication: { Status: 'Enabled' } })] },
    });
    Template.fromStack(dr).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 90 } })] },
    });
  });

  test.each([
    [ReplicaObjectLock.GOVERNANCE, 'GOVERNANCE'],
    [ReplicaObjectLock.COMPLIANCE, 'COMPLIANCE'],
  ])('Object Lock %s holds every copy for the retention; replication may read the source\'s retention', (objectLock, mode) => {
    const { main, dr } = exportApp({}, {}, undefined, { objectLock, retention: Duration.days(14) });
    Template.fromStack(dr).hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: mode, Days: 14 } } },
    });
    Template.fromStack(main).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] })]) },
    });
  });

  test('in an opt-in recovery region ElastiCache reads the replica through a bucket policy for its service principal', () => {
    const { dr } = app('eu-west-1', 'ap-east-1');
    const t = Template.fromStack(dr);
    t.resourceCountIs('Custom::SnapshotExportBucketAcl', 0);
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'ElastiCacheSeedBucket', Principal: { Service: 'ap-east-1.elasticache-snapshot.amazonaws.com' }, Action: ['s3:ListBucket', 's3:GetBucketAcl'] }),
          Match.objectLike({ Sid: 'ElastiCacheSeedObjects', Principal: { Service: 'ap-east-1.elasticache-snapshot.amazonaws.com' }, Action: 's3:GetObject' }),
        ]),
      },
    });
  });

  test.each<[string, () => void, string]>([
    ['an expiration on the replica', () => app('eu-west-1', 'us-west-2', { expiration: Duration.days(3) }),
      'expiration is given for a SnapshotReplicaBucket; its objects expire after retention (give retention instead)'],
    ['a retention in hours', () => app('eu-west-1', 'us-west-2', { retention: Duration.hours(30) }),
      'retention is 1 day 6 hours; S3 lifecycle rules count whole days, at least 1'],
    ['no region, no access mode', () => {
      const stack = new Stack(new App(), 'Agnostic');
      new SnapshotExportBucket(stack, 'Exports');
    }, "elastiCacheAccess is not set and the stack's region is not known at synth time"],
    ['a bucket name with dots', () => exportApp({ bucketName: 'my.exports' }), "bucketName 'my.exports' is not a DNS-compliant bucket name"],
    ['a bucket name in upper case', () => exportApp({ bucketName: 'Exports' }), "bucketName 'Exports' is not a DNS-compliant bucket name"],
    ['a lifecycle in hours', () => exportApp({ noncurrentVersionExpiration: Duration.hours(12) }), 'noncurrentVersionExpiration is 12 hours; S3 lifecycle rules count whole days, at least 1'],
    ['a replica in the same region', () => {
      const a = new App();
      const one = new Stack(a, 'One', { env: { account: ACCOUNT, region: 'eu-west-1' } });
      const two = new Stack(a, 'Two', { env: { account: ACCOUNT, region: 'eu-west-1' } });
      new SnapshotExportBucket(one, 'Exports', { replica: new SnapshotReplicaBucket(two, 'Replica') });
    }, "replica is in eu-west-1, the export bucket's own region; a replica for disaster recovery must be in another region"],
  ])('refuses %s', (_, build, message) => {
    expect(build).toThrow(message);
  });

  test('an env-agnostic stack works when the access mode is given', () => {
    const stack = new Stack(new App(), 'Agnostic');
    new SnapshotExportBucket(stack, 'Exports', { elastiCacheAccess: ElastiCacheBucketAccess.SERVICE_PRINCIPAL_POLICY });
    const statements = JSON.stringify(Template.fromStack(stack).findResources('AWS::S3::BucketPolicy'));
    expect(statements).toContain('{"Ref":"AWS::Region"},".elasticache-snapshot.amazonaws.com"');
  });
});

describe('ScheduledSnapshotExport', () => {
  test('the state machine: snapshot from the backup source, sized waits, export, verify, replica, prune; every task caught', () => {
    const { main } = exportApp();
    const def = definition(main);
    expect(def.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(def.StartAt).toBe('Plan');
    expect(def.States.TakeSnapshot.Parameters).toEqual({ 'CacheClusterId': 'orders-002', 'SnapshotName.$': '$.plan.snapshotName' });
    expect(def.States.TakeSnapshot.Retry[0]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['ElastiCache.InvalidReplicationGroupStateException', 'ElastiCache.InvalidCacheClusterStateException']),
      IntervalSeconds: 300,
      BackoffRate: 2,
      MaxAttempts: 4,
    });
    expect(def.States.WaitForSnapshot.Seconds).toBe(120);
    // The snapshot loop counts its checks from TakeSnapshot on and gives up after its bound.
    expect(def.States.TakeSnapshot).toMatchObject({ ResultSelector: { checks: 0 }, ResultPath: '$.snapshotWait' });
    expect(def.States.DescribeSnapshot.Next).toBe('CountSnapshotCheck');
    expect(def.States.CountSnapshotCheck).toMatchObject({ Parameters: { 'checks.$': 'States.MathAdd($.snapshotWait.checks, 1)' }, ResultPath: '$.snapshotWait', Next: 'SnapshotAvailable?' });
    expect(def.States['SnapshotAvailable?'].Choices).toContainEqual({ Variable: '$.snapshotWait.checks', NumericGreaterThanEquals: 60, Next: 'SnapshotIncomplete' });
    expect(def.States.SnapshotIncomplete).toEqual({
      Type: 'Pass',
      Parameters: {
        'Error': 'SnapshotIncomplete',
        'Cause.$': "States.Format('Snapshot {} is still {} after 60 checks (2 hours); it was not exported and nothing was pruned', $.plan.snapshotName, $.snapshot.status)",
      },
      ResultPath: '$.error',
      Next: 'NotifyFailure',
    });
    // The other two loops: their bound as a number of checks, counted by the Lambda step.
    expect(def.States.VerifyExport.Parameters.maxChecks).toBe(60);
    expect(def.States.CheckReplica.Parameters.maxChecks).toBe(18);
    expect(def.States.NotifyFailure.Retry).toEqual([{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 3 }]);
    expect(def.States.WaitForExport.Seconds).toBe(60);
    expect(def.States.WaitForReplica.Seconds).toBe(300);
    expect(def.States.ExportSnapshot.Parameters).toEqual({ 'SourceSnapshotName.$': '$.plan.snapshotName', 'TargetSnapshotName.$': '$.plan.snapshotName', 'TargetBucket': 'TOKEN' });
    expect(def.States.Prune.Parameters).toMatchObject({ keep: 7, maxAgeDays: 0, replicaRegion: 'us-west-2' });
    for (const [name, state] of Object.entries<any>(def.States)) {
      if (state.Type === 'Task' && name !== 'NotifyFailure') {
        expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyFailure' }]);
      }
    }
    expect(def.States.Failed).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    expect(def.TimeoutSeconds).toBe(6 * 3600);
  });

  test('scheduled daily by default; an alarm on failed, timed-out and aborted runs', () => {
    const { main } = exportApp();
    const t = Template.fromStack(main);
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut + aborted' })]),
    });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  test('a topic with a customer managed key: both state machines may publish and use the key', () => {
    const a = app();
    const group = new RedisReplicationGroup(a.main, 'Cache', { vpc: a.vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders' });
    const key = new kms.Key(a.main, 'TopicKey');
    const topic = new sns.Topic(a.main, 'Topic', { masterKey: key });
    new ScheduledSnapshotExport(a.main, 'Nightly', { replicationGroup: group, exportBucket: new SnapshotExportBucket(a.main, 'Exports', { replica: a.replica }), notificationTopic: topic });
    const t = Template.fromStack(a.main);
    const keyArn = { 'Fn::GetAtt': [a.main.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    const topicRef = { Ref: a.main.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
    for (const role of ['NightlyStateMachineRole', 'NightlyStoppedRunNotifierRole']) {
      t.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(`^${role}`) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            { Action: 'sns:Publish', Effect: 'Allow', Resource: topicRef },
            { Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow', Resource: keyArn },
          ]),
        },
      });
    }
  });

  test('a run that times out or is aborted is published by a rule on its status; a failed run is not (it publishes itself)', () => {
    const { main } = exportApp();
    const t = Template.fromStack(main);
    const rules = t.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.anyValue() } });
    expect(Object.keys(rules)).toHaveLength(1);
    const rule = Object.values<any>(rules)[0].Properties;
    const machines = t.findResources('AWS::StepFunctions::StateMachine');
    const workflow = Object.keys(machines).find((id) => id.startsWith('NightlyStateMachine'))!;
    const notifier = Object.keys(machines).find((id) => id.startsWith('NightlyStoppedRunNotifier'))!;
    expect(rule.EventPattern).toEqual({
      'source': ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      'detail': { status: ['TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: workflow }] },
    });
    expect(rule.Targets).toEqual([{
      Arn: { Ref: notifier },
      Id: 'Target0',
      RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^NightlyStoppedRunNotifierEventsRole/), 'Arn'] },
      InputTransformer: {
        InputPathsMap: { 'detail-executionArn': '$.detail.executionArn', 'detail-status': '$.detail.status', 'detail-startDate': '$.detail.startDate', 'detail-stopDate': '$.detail.stopDate' },
        InputTemplate: '{"execution":<detail-executionArn>,"status":<detail-status>,"startDate":<detail-startDate>,"stopDate":<detail-stopDate>}',
      },
    }]);
    // The rule's role may start the notifier and nothing else.
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^NightlyStoppedRunNotifierEventsRole') }],
      PolicyDocument: { Statement: [{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: notifier } }] },
    });
    const publisher = definition(main, 'NightlyStoppedRunNotifier');
    expect(publisher.StartAt).toBe('NotifyStoppedRun');
    expect(publisher.States.NotifyStoppedRun).toMatchObject({
      Resource: expect.stringContaining(':states:::sns:publish'),
      Parameters: { Message: { 'execution.$': '$.execution', 'error.$': '$.status', 'replicationGroupId': 'TOKEN' }, TopicArn: 'TOKEN' },
      End: true,
    });
    expect(publisher.TimeoutSeconds).toBe(300);
  });

  test('a member source and cluster mode enabled snapshot at group level', () => {
    const primary = exportApp({}, { source: BackupSource.primary() });
    // The member id is built on the group's Ref (TOKEN here): `<group id>-001`.
    expect(definition(primary.main).States.TakeSnapshot.Parameters.CacheClusterId).toBe('TOKEN-001');
    const a = app();
    const group = new RedisReplicationGroup(a.main, 'Cache', { vpc: a.vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders', clusterMode: ClusterMode.ENABLED, shards: 3 });
    new ScheduledSnapshotExport(a.main, 'Nightly', { replicationGroup: group, exportBucket: new SnapshotExportBucket(a.main, 'Exports', { replica: a.replica }) });
    expect(definition(a.main).States.TakeSnapshot.Parameters).toEqual({ 'ReplicationGroupId': 'TOKEN', 'SnapshotName.$': '$.plan.snapshotName' });
  });

  test.each<[string, () => void, string]>([
    ['a data tiering group', () => {
      const a = app();
      const group = new RedisReplicationGroup(a.main, 'Cache', { vpc: a.vpc, nodeType: 'cache.r6gd.xlarge', replicationGroupId: 'orders' });
      new ScheduledSnapshotExport(a.main, 'Nightly', { replicationGroup: group, exportBucket: new SnapshotExportBucket(a.main, 'Exports', { replica: a.replica }) });
    }, "replicationGroup 'Main/Cache' runs on data tiering nodes (r6gd); ElastiCache cannot export snapshots of data tiering groups to S3"],
    ['an export bucket without replica', () => {
      const a = app();
      const group = new RedisReplicationGroup(a.main, 'Cache', { vpc: a.vpc, nodeType: 'cache.r7g.large' });
      new ScheduledSnapshotExport(a.main, 'Nightly', { replicationGroup: group, exportBucket: new SnapshotExportBucket(a.main, 'Exports') });
    }, 'exportBucket has no replica'],
    ['a prefix too long for the run stamp', () => exportApp({}, { snapshotPrefix: 'a'.repeat(25) }), 'snapshotPrefix'],
    ['a prefix in upper case', () => exportApp({}, { snapshotPrefix: 'Nightly' }), 'snapshotPrefix'],
    ['keep 0', () => exportApp({}, { keep: 0 }), 'keep is 0; keep at least 1 run'],
    ['maxAge in hours', () => exportApp({}, { maxAge: Duration.hours(36) }), 'maxAge is 1 day 12 hours; give whole days, at least 1'],
    ['a source on a cluster-mode-enabled group', () => {
      const a = app();
      const group = new RedisReplicationGroup(a.main, 'Cache', { vpc: a.vpc, nodeType: 'cache.r7g.large', clusterMode: ClusterMode.ENABLED, shards: 2 });
      new ScheduledSnapshotExport(a.main, 'Nightly', { replicationGroup: group, exportBucket: new SnapshotExportBucket(a.main, 'Exports', { replica: a.replica }), source: BackupSource.replica() });
    }, 'source is given but the replication group has cluster mode enabled'],
  ])('refuses %s', (_, build, message) => {
    expect(build).toThrow(message);
  });

  test.each<[string, () => void, string]>([
    ['a timeout shorter than the waits', () => exportApp({}, { timeout: Duration.hours(2) }),
      "timeout is 2 hours but the workflow's waits can take up to 5 hours 45 minutes (busy group retries 1 hour 15 minutes, snapshot 2 hours, export 1 hour, replica 1 hour 30 minutes); give a longer timeout or shorter bounds"],
    ['bounds rounded up to whole waits', () => exportApp({}, {
      timeout: Duration.minutes(178),
      waits: { snapshot: Duration.minutes(7) },
      bounds: { snapshot: Duration.minutes(10), export: Duration.minutes(30), replication: Duration.hours(1) },
    }), "timeout is 2 hours 58 minutes but the workflow's waits can take up to 2 hours 59 minutes (busy group retries 1 hour 15 minutes, snapshot 14 minutes, export 30 minutes, replica 1 hour); give a longer timeout or shorter bounds"],
    ['a bound shorter than its wait', () => exportApp({}, { bounds: { replication: Duration.minutes(2) } }),
      'bounds.replication is 2 minutes, shorter than waits.replication (5 minutes); a bound holds at least one wait'],
  ])('refuses %s', (_, build, message) => {
    expect(build).toThrow(new Error(message));
  });

  test('bounds that fit the timeout: each becomes a number of checks', () => {
    const { main } = exportApp({}, {
      timeout: Duration.minutes(179),
      waits: { snapshot: Duration.minutes(7) },
      bounds: { snapshot: Duration.minutes(10), export: Duration.minutes(30), replication: Duration.hours(1) },
    });
    const def = definition(main);
    expect(def.States['SnapshotAvailable?'].Choices).toContainEqual({ Variable: '$.snapshotWait.checks', NumericGreaterThanEquals: 2, Next: 'SnapshotIncomplete' });
    expect(def.States.VerifyExport.Parameters.maxChecks).toBe(30);
    expect(def.States.CheckReplica.Parameters.maxChecks).toBe(12);
    expect(def.TimeoutSeconds).toBe(179 * 60);
  });

  test('cdk-nag AwsSolutions: only the user\'s own decisions remain (ports, secret rotation, access logs, the test VPC)', () => {
    const { main, dr } = exportApp();
    const findings = [main, dr].flatMap((s) => new AwsSolutionsChecks().validateScope(s).violations
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`))).sort();
    expect(findings).toEqual([
      'AwsSolutions-AEC5: Main/Cache/Resource',
      'AwsSolutions-S1: Dr/Replica/Bucket/Resource',
      'AwsSolutions-S1: Main/Exports/Bucket/Resource',
      'AwsSolutions-SMG4: Main/Cache/AuthToken/Resource',
      'AwsSolutions-VPC7: Main/Vpc/Resource',
    ]);
  });

  test('with access logs given, the buckets log to them', () => {
    const a = app();
    const logs = new s3.Bucket(a.main, 'Logs');
    new SnapshotExportBucket(a.main, 'Exports', { replica: a.replica, serverAccessLogsBucket: logs, serverAccessLogsPrefix: 'exports/' });
    Template.fromStack(a.main).hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^Logs') }, LogFilePrefix: 'exports/' } });
  });
});

test('the export workflow describes itself in its state machine\'s metadata (what the local DR drill finds it by); the stopped-run notifier does not', () => {
  const { main, flow } = exportApp({}, { keep: 4, snapshotPrefix: 'orders-nightly' });
  const machines = Template.fromStack(main).findResources('AWS::StepFunctions::StateMachine');
  const described = Object.entries<any>(machines).filter(([, m]) => m.Metadata?.['cdk-elasticache-backup:workflow']);
  expect(described.map(([id]) => id)).toEqual([main.getLogicalId(flow.stateMachine.node.defaultChild as CfnResource)]);
  expect(described[0][1].Metadata['cdk-elasticache-backup:workflow']).toEqual({
    kind: 'scheduled-export',
    replicationGroupId: { Ref: expect.stringMatching(/^Cache/) },
    snapshotPrefix: 'orders-nightly',
    keep: 4,
    exportBucket: { Ref: expect.stringMatching(/^Exports/) },
    replicaBucket: expect.any(String),
    replicaRegion: 'us-west-2',
  });
});
