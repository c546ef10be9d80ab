/**
 * The example app: a cluster-mode-disabled group with its backup plan declared, and a
 * cluster-mode-enabled group seeded from RDB files in S3. Deployable to a real account
 * (`npx projen integ:backup-plan:deploy`); its synthesized template is kept as a snapshot.
 */
import { Annotations, App, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  BackupSource, ClusterMode, MaintenanceWindow, RedisReplicationGroup, RestoreSource, SnapshotWindow,
} from '../src';
import { acknowledgeGroupDecisions } from './decisions';

export class BackupPlanStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.ALL } },
    });

    const sessions = new RedisReplicationGroup(this, 'Sessions', {
      vpc,
      nodeType: 'cache.r7g.large',
      replicasPerShard: 2,
      backup: {
        retention: Duration.days(15),
        window: SnapshotWindow.fromString('05:00-06:00'),
        source: BackupSource.replica(),
        // A verified snapshot of the sessions before every deployment that changes the group.
        snapshotBeforeUpdate: { keep: 3 },
      },
      maintenanceWindow: MaintenanceWindow.fromString('sun:23:00-mon:00:30'),
    });

    const seeds = s3.Bucket.fromBucketName(this, 'Seeds', 'example-redis-seeds');
    const catalog = new RedisReplicationGroup(this, 'Catalog', {
      vpc,
      nodeType: 'cache.r7g.large',
      clusterMode: ClusterMode.ENABLED,
      shards: 3,
      replicasPerShard: 1,
      backup: { retention: Duration.days(15), window: SnapshotWindow.fromString('03:00-04:00') },
      restoreFrom: RestoreSource.fromBucket(seeds, ['catalog/seed-0001.rdb', 'catalog/seed-0002.rdb', 'catalog/seed-0003.rdb']),
    });

    // Seeding from S3 is what this group is for; the replacement warning is understood.
    Annotations.of(catalog).acknowledgeWarning('cdk-elasticache-backup:restoreFromReplaces',
      'The catalog is always rebuilt from the seed files; a new seed is meant to replace the group.');

    // What this app decides about cdk-nag's findings, each on its own construct, with why.
    acknowledgeGroupDecisions(sessions, catalog);
  }
}

/** The example app, checked by cdk-nag's AwsSolutions pack when it synthesizes. */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  new BackupPlanStack(app, 'ElastiCacheBackupPlan');
  return app;
}

if (require.main === module) {
  buildApp().synth();
}
