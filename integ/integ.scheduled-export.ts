/**
 * The scheduled export and standby restore example: a group in the primary region backed up every
 * night to an export bucket that S3 replicates to a bucket in the recovery region, and in the
 * recovery region a workflow that restores a standby from the newest replicated export and moves the
 * name applications use (`orders.corp.internal`) to it, rehearsed every Sunday; two stacks of one app.
 * Deployable to a real account (`CDK_INTEG_ACCOUNT=... npx projen integ:scheduled-export:deploy`);
 * its synthesized templates are kept as a snapshot, with cdk-nag's AwsSolutions pack enforced.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { MaintenanceWindow, RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, StandbyRestore } from '../src';
import { acknowledgeGroupDecisions } from './decisions';

/** A bucket for server access logs: where the snapshot buckets log to. */
function accessLogs(scope: Construct): s3.Bucket {
  const logs = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [{ expiration: Duration.days(90) }],
  });
  Validations.of(logs).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access log bucket; logging its own access would log forever.' });
  return logs;
}

/** A changed version of the example app, to deploy over the first (test/local/integ-deploy.test.ts). */
export interface ExampleAppOptions {
  /** The orders group's weekly maintenance window: a change ElastiCache applies in place. @default - none (chosen by ElastiCache) */
  readonly ordersMaintenanceWindow?: string;
  /** The orders group's id: a change that replaces the group (CloudFormation: "Update requires: Replacement"). @default 'orders' */
  readonly ordersGroupId?: string;
}

/** The example app, checked by cdk-nag's AwsSolutions pack when it synthesizes; without options, the committed snapshot's version. */
export function buildApp(outdir?: string, options: ExampleAppOptions = {}): App {
  // A cross-region app needs its account at synth; set CDK_INTEG_ACCOUNT to deploy it. The zones
  // are given as context so that synth never looks them up in the account.
  const account = process.env.CDK_INTEG_ACCOUNT ?? '123456789012';
  const app = new App({
    outdir,
    context: {
      [`availability-zones:account=${account}:region=eu-west-1`]: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      [`availability-zones:account=${account}:region=us-west-2`]: ['us-west-2a', 'us-west-2b', 'us-west-2c'],
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const recovery = new Stack(app, 'ExportRecovery', { env: { account, region: 'us-west-2' } });
  const replica = new SnapshotReplicaBucket(recovery, 'Replica', { serverAccessLogsBucket: accessLogs(recovery) });

  const primary = new Stack(app, 'ExportPrimary', { env: { account, region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(primary, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.ALL } },
  });
  const orders = new RedisReplicationGroup(primary, 'Orders', {
    vpc,
    nodeType: 'cache.r7g.large',
    replicationGroupId: options.ordersGroupId ?? 'orders',
    maintenanceWindow: options.ordersMaintenanceWindow ? MaintenanceWindow.fromString(options.ordersMaintenanceWindow) : undefined,
  });
  const exportBucket = new SnapshotExportBucket(primary, 'Exports', { replica, serverAccessLogsBucket: accessLogs(primary) });
  const nightly = new ScheduledSnapshotExport(primary, 'Nightly', {
    replicationGroup: orders,
    exportBucket,
    schedule: events.Schedule.cron({ hour: '2', minute: '30' }),
    keep: 7,
    maxAge: Duration.days(30),
  });

  // The recovery side: the VPC and private zone applications in the recovery region use.
  const recoveryVpc = new ec2.Vpc(recovery, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.ALL } },
  });
  const standbyToken = new secretsmanager.Secret(recovery, 'StandbyAuthToken', {
    description: 'AUTH token of the orders standby in the recovery region',
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
  Validations.of(standbyToken).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason: 'The standby\'s token is set when the standby is created; a later change goes through ModifyReplicationGroup (ROTATE, then SET), not a rotation function on this secret.',
  });
  new StandbyRestore(recovery, 'Restore', {
    replicaBucket: replica,
    snapshotPrefix: nightly.snapshotPrefix,
    vpc: recoveryVpc,
    hostedZone: new route53.PrivateHostedZone(recovery, 'Zone', { zoneName: 'corp.internal', vpc: recoveryVpc }),
    recordName: 'orders',
    standbyIdPrefix: 'orders-standby',
    rehearsalSchedule: events.Schedule.cron({ weekDay: 'SUN', hour: '6', minute: '0' }),
    // The group's clients authenticate, so the standby needs a token too: the recovery region's own,
    // which applications there read (an AUTH token: 16 to 128 printable characters, none of @ " /).
    authToken: standbyToken,
  });

  acknowledgeGroupDecisions(orders);
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
