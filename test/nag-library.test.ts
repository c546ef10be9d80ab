/**
 * cdk-nag AwsSolutions, HIPAA Security and NIST 800-53 rev 5 on everything the library creates:
 * every construct in one app (a group with a named final snapshot and snapshots before updates, a manual snapshot, the export
 * bucket and its replica in another region's stack, the scheduled export). What is left after the
 * library's own acknowledgements is listed exactly, so a new finding fails the build; each of those
 * is a user's decision with the prop (or acknowledgement) that settles it.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import {
  RedisReplicationGroup, RedisSnapshot, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, SnapshotBucketOptions, StandbyRestore,
} from '../src';

const ACCOUNT = '111111111111';

interface Decisions {
  /** Server access logs for both snapshot buckets. */
  readonly accessLogs?: boolean;
  /** A customer managed key for the workflow's log groups. */
  readonly logKey?: kms.IKey | 'imported';
  /** An action on the workflow's failure alarm. */
  readonly alarmAction?: boolean;
}

/** Every construct of the library in one two-region app, with the user's decisions taken or not. */
function libraryApp(decisions: Decisions = {}) {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
  const main = new Stack(app, 'Main', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(main, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    flowLogs: { all: {} },
  });
  const logsIn = (stack: Stack): SnapshotBucketOptions => (decisions.accessLogs
    ? { serverAccessLogsBucket: s3.Bucket.fromBucketName(stack, 'AccessLogs', `access-logs-${stack.region}`) } : {});
  const group = new RedisReplicationGroup(main, 'Cache', {
    vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders', backup: { retention: Duration.days(15), finalSnapshotName: 'orders-final', snapshotBeforeUpdate: {} },
  });
  new RedisSnapshot(main, 'BeforeUpgrade', { replicationGroup: group, snapshotName: 'orders-before-upgrade' });
  const replica = new SnapshotReplicaBucket(dr, 'Replica', logsIn(dr));
  const exportBucket = new SnapshotExportBucket(main, 'Exports', { replica, ...logsIn(main) });
  const logEncryptionKey = decisions.logKey === 'imported'
    ? kms.Key.fromKeyArn(main, 'LogKey', `arn:aws:kms:eu-west-1:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`)
    : decisions.logKey;
  const nightly = new ScheduledSnapshotExport(main, 'Nightly', { replicationGroup: group, exportBucket, logEncryptionKey });
  const drVpc = new ec2.Vpc(dr, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    flowLogs: { all: {} },
  });
  const restore = new StandbyRestore(dr, 'Restore', {
    replicaBucket: replica,
    snapshotPrefix: nightly.snapshotPrefix,
    vpc: drVpc,
    hostedZone: new route53.PrivateHostedZone(dr, 'Zone', { zoneName: 'corp.internal', vpc: drVpc }),
    recordName: 'orders',
    logEncryptionKey: decisions.logKey === 'imported'
      ? kms.Key.fromKeyArn(dr, 'LogKey', `arn:aws:kms:us-west-2:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`)
      : undefined,
  });
  if (decisions.alarmAction) {
    nightly.failureAlarm.addAlarmAction(new actions.SnsAction(sns.Topic.fromTopicArn(main, 'Oncall', `arn:aws:sns:eu-west-1:${ACCOUNT}:oncall`)));
    restore.failureAlarm.addAlarmAction(new actions.SnsAction(sns.Topic.fromTopicArn(dr, 'Oncall', `arn:aws:sns:us-west-2:${ACCOUNT}:oncall`)));
  }
  return { app, dr, main, group, exportBucket, nightly, restore };
}

/** The findings of a pack on both stacks as `rule id: construct path` lines, sorted. */
function findings(make: () => NagPack, ...stacks: Stack[]): string[] {
  return stacks.flatMap((stack) => {
    const report = make().validateScope(stack);
    const lines = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`));
    expect(report.success).toBe(lines.length === 0);
    return lines;
  }).sort();
}

const FIXTURE = 'The VPC is a test fixture, not part of the library.';
const DECIDED = 'Decided by the test user.';

/** What the user decides on the group (the same as for the group alone, test/nag.test.ts) and the VPC fixture. */
const groupAndFixture = (p: string) => [
  `${p}-CloudWatchLogGroupEncrypted: Dr/Vpc/all/LogGroup/Resource`,
  `${p}-IAMNoInlinePolicy: Dr/Vpc/all/IAMRole/DefaultPolicy/Resource`,
  `${p}-VPCDefaultSecurityGroupClosed: Dr/Vpc/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Main/Vpc/all/LogGroup/Resource`,
  `${p}-IAMNoInlinePolicy: Main/Vpc/all/IAMRole/DefaultPolicy/Resource`,
  `${p}-SecretsManagerRotationEnabled: Main/Cache/AuthToken/Resource`,
  `${p}-SecretsManagerUsingKMSKey: Main/Cache/AuthToken/Resource`,
  `${p}-VPCDefaultSecurityGroupClosed: Main/Vpc/Resource`,
];

/** What the user decides on the export and the restore: access logs, the workflows' log key, the alarms' actions. */
const exportDecisions = (p: string) => [
  `${p}-CloudWatchAlarmAction: Dr/Restore/FailureAlarm/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Dr/Restore/CheckLogs/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Dr/Restore/Logs/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Dr/Restore/StepLogs/Resource`,
  `${p}-CloudWatchAlarmAction: Main/Nightly/FailureAlarm/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Main/Nightly/Logs/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Main/Nightly/StepLogs/Resource`,
  `${p}-CloudWatchLogGroupEncrypted: Main/Nightly/StoppedRunNotifierLogs/Resource`,
  `${p}-S3BucketLoggingEnabled: Dr/Replica/Bucket/Resource`,
  `${p}-S3BucketLoggingEnabled: Main/Exports/Bucket/Resource`,
];

const sorted = (lines: string[]) => [...lines].sort();

describe.each<[string, () => NagPack, string]>([
  ['HIPAA Security', () => new HIPAASecurityChecks(), 'HIPAA.Security'],
  ['NIST 800-53 rev 5', () => new NIST80053R5Checks(), 'NIST.800.53.R5'],
])('%s on every construct of the library', (_name, make, p) => {
  test('only the user\'s decisions are left: the library\'s Lambda, IAM, log and bucket findings are fixed or acknowledged', () => {
    const { dr, main } = libraryApp();
    expect(findings(make, dr, main)).toEqual(sorted([...groupAndFixture(p), ...exportDecisions(p)]));
  });

  test('serverAccessLogsBucket, logEncryptionKey and an alarm action settle the export\'s findings', () => {
    const { dr, main } = libraryApp({ accessLogs: true, logKey: 'imported', alarmAction: true });
    expect(findings(make, dr, main)).toEqual(sorted(groupAndFixture(p)));
  });

  test('with the group\'s decisions acknowledged too, the pack passes', () => {
    const { dr, main, group } = libraryApp({ accessLogs: true, logKey: 'imported', alarmAction: true });
    const acks: Array<[IConstruct, string, string]> = [
      [group.secret!, 'SecretsManagerRotationEnabled', DECIDED],
      [group.secret!, 'SecretsManagerUsingKMSKey', DECIDED],
      ...[main.node.findChild('Vpc'), dr.node.findChild('Vpc')].flatMap((vpc): Array<[IConstruct, string, string]> => [
        [vpc, 'CloudWatchLogGroupEncrypted', FIXTURE],
        [vpc, 'IAMNoInlinePolicy', FIXTURE],
        [vpc, 'VPCDefaultSecurityGroupClosed', FIXTURE],
      ]),
    ];
    for (const [scope, rule, reason] of acks) {
      Validations.of(scope).acknowledge({ id: `${p}-${rule}`, reason });
    }
    expect(findings(make, dr, main)).toEqual([]);
  });

  test('an export bucket without a replica is reported: replication is the user\'s decision there', () => {
    const stack = new Stack(new App(), 'Alone', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    new SnapshotExportBucket(stack, 'Exports', { serverAccessLogsBucket: s3.Bucket.fromBucketName(stack, 'AccessLogs', 'access-logs') });
    expect(findings(make, stack)).toEqual([`${p}-S3BucketReplicationEnabled: Alone/Exports/Bucket/Resource`]);
  });

  test('the library\'s acknowledgements are scoped to its own resources: the same findings on the user\'s resources in the stack stay', () => {
    const { main } = libraryApp({ accessLogs: true, logKey: 'imported', alarmAction: true });
    const fn = new lambda.Function(main, 'UserFunction', {
      code: lambda.Code.fromInline('exports.handler = async () => {};'), handler: 'index.handler', runtime: lambda.Runtime.NODEJS_22_X,
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListAllMyBuckets'], resources: ['*'] }));
    new logs.LogGroup(main, 'UserLogs');
    new s3.Bucket(main, 'UserBucket', {
      serverAccessLogsBucket: s3.Bucket.fromBucketName(main, 'UserAccessLogs', 'user-access-logs'), enforceSSL: true, versioned: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    });
    const user = findings(make, main).filter((line) => /: Main\/User/.test(line));
    expect(user).toEqual(sorted([
      `${p}-CloudWatchLogGroupEncrypted: Main/UserLogs/Resource`,
      `${p}-IAMNoInlinePolicy: Main/UserFunction/ServiceRole/DefaultPolicy/Resource`,
      `${p}-LambdaConcurrency: Main/UserFunction/Resource`,
      `${p}-LambdaDLQ: Main/UserFunction/Resource`,
      `${p}-LambdaInsideVPC: Main/UserFunction/Resource`,
      `${p}-S3BucketReplicationEnabled: Main/UserBucket/Resource`,
      `${p}-S3DefaultEncryptionKMS: Main/UserBucket/Resource`,
    ]));
  });
});

test('AwsSolutions on every construct of the library: only the user\'s decisions, as for the group and the buckets alone', () => {
  const { dr, main } = libraryApp();
  expect(findings(() => new AwsSolutionsChecks(), dr, main)).toEqual([
    'AwsSolutions-AEC5: Main/Cache/Resource',
    'AwsSolutions-S1: Dr/Replica/Bucket/Resource',
    'AwsSolutions-S1: Main/Exports/Bucket/Resource',
    'AwsSolutions-SMG4: Main/Cache/AuthToken/Resource',
  ]);
});

describe('logEncryptionKey', () => {
  test('encrypts both of the workflow\'s log groups with the key, and lets CloudWatch Logs use a key of the app', () => {
    const app = new App();
    const stack = new Stack(app, 'Keyed', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const dr = new Stack(app, 'KeyedDr', { env: { account: ACCOUNT, region: 'us-west-2' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const group = new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders' });
    const key = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });
    const exportBucket = new SnapshotExportBucket(stack, 'Exports', { replica: new SnapshotReplicaBucket(dr, 'Replica') });
    new ScheduledSnapshotExport(stack, 'Nightly', { replicationGroup: group, exportBucket, logEncryptionKey: key });

    const t = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    const groups = t.findResources('AWS::Logs::LogGroup');
    const nightly = Object.entries<any>(groups).filter(([id]) => id.startsWith('Nightly'));
    expect(nightly.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['NightlyLogs', 'NightlyStepLogs', 'NightlyStoppedRunNotifierLogs']);
    for (const [, g] of nightly) expect(g.Properties.KmsKeyId).toEqual(keyArn);
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
          Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:logs:eu-west-1:${ACCOUNT}:log-group:*`]] } } },
        })]),
      },
    });
  });
});
