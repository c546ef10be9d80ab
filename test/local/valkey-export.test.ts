/**
 * A Valkey 8 group's scheduled export, as CDK synthesized it, run against the local provider: the
 * group is deployed from the template as Valkey, the workflow's manifest says valkey (from
 * DescribeSnapshots), and a new group seeded from the replicated RDB with the manifest's engine is
 * Valkey with every key.
 */
import { CreateReplicationGroupCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import Redis from 'ioredis';
import * as handlers from '../../lambda/handlers/index';
import * as steps from '../../lambda/handlers/steps';
import { Deployment, deployStack } from '../../local/deploy';
import { LocalProvider } from '../../local/provider';
import { runStateMachine } from '../../local/sfn';
import { groupAvailable } from '../../local/waiters';
import {
  ElastiCacheEngine, RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, ValkeyEngineVersion,
} from '../../src';
import { ExportManifest } from '../../src/private/export-workflow-contract';

jest.setTimeout(300_000);

const A = 'eu-west-1';
const B = 'us-west-2';
const ACCOUNT = '000000000000';
const KEYS = 5_000;

let provider: LocalProvider;
const saved = { ...process.env };
const closers: Array<() => void> = [];

function synth(): { main: any; dr: any } {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: B } });
  const main = new Stack(app, 'Main', { env: { account: ACCOUNT, region: A } });
  const vpc = new ec2.Vpc(main, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const group = new RedisReplicationGroup(main, 'Sessions', {
    vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'sessions', engine: ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_8_0),
  });
  const replica = new SnapshotReplicaBucket(dr, 'Replica');
  const exportBucket = new SnapshotExportBucket(main, 'Exports', { replica });
  new ScheduledSnapshotExport(main, 'Nightly', { replicationGroup: group, exportBucket, keep: 2, snapshotPrefix: 'sessions-x' });
  const asm = app.synth();
  return { main: asm.getStackByName('Main').template, dr: asm.getStackByName('Dr').template };
}

function logicalIdOf(template: any, type: string, prefix = ''): string {
  const ids = Object.keys(template.Resources)
    .filter((id) => template.Resources[id].Type === type && !id.startsWith('CdkElastiCacheBackupProvider') && id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function bucketOf(d: Deployment, prefix: string): string {
  const id = Object.keys(d.template.Resources).find((k) => d.template.Resources[k].Type === 'AWS::S3::Bucket' && k.startsWith(prefix))!;
  return d.refs.get(id)!;
}

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  Object.assign(process.env, provider.env(), { AWS_REGION: A });
});

afterAll(async () => {
  for (const close of closers) close();
  await provider?.stop();
  process.env = saved;
});

test('the export of a Valkey group has a manifest that says valkey, and seeds a Valkey group in the recovery region', async () => {
  const templates = synth();
  const groupId = logicalIdOf(templates.main, 'AWS::ElastiCache::ReplicationGroup');
  expect(templates.main.Resources[groupId].Properties).toMatchObject({ Engine: 'valkey', EngineVersion: '8.0', TransitEncryptionEnabled: true });
  const recovery = await deployStack(provider, templates.dr, { stackName: 'Dr', region: B, account: ACCOUNT, customResources: handlers });
  const primary = await deployStack(provider, templates.main, { stackName: 'Main', region: A, account: ACCOUNT, customResources: handlers });

  const client = new Redis({
    host: primary.attrs.get(`${groupId}.PrimaryEndPoint.Address`)!,
    port: Number(primary.attrs.get(`${groupId}.PrimaryEndPoint.Port`)),
    maxRetriesPerRequest: 2,
    // The template's group has in-transit encryption (the construct's default): its nodes speak TLS only.
    tls: {},
    // And an AUTH token (also the default): the generated secret's value, which CloudFormation resolved into the group's AuthToken.
    password: provider.secretsManager.currentValue(A, primary.refs.get(logicalIdOf(templates.main, 'AWS::SecretsManager::Secret', 'Sessions'))!),
  });
  closers.push(() => client.disconnect());
  const pipeline = client.pipeline();
  for (let i = 0; i < KEYS; i++) pipeline.set(`session:${i}`, `user-${i}`);
  await pipeline.exec();
  await client.wait(1, 10_000);

  const run = await runStateMachine({
    provider,
    deployment: primary,
    stateMachine: logicalIdOf(templates.main, 'AWS::StepFunctions::StateMachine', 'NightlyStateMachine'),
    lambdas: { 'index.exportWorkflowStep': steps.exportWorkflowStep as any },
  });
  expect(run.error ?? run.status).toBe('SUCCEEDED');
  expect(run.output.replica.replicated).toBe(true);
  const name: string = run.output.plan.snapshotName;

  const s3 = new S3Client({ region: B, endpoint: provider.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  closers.push(() => s3.destroy());
  const object = await s3.send(new GetObjectCommand({ Bucket: bucketOf(recovery, 'Replica'), Key: `${name}.manifest.json` }));
  const manifest: ExportManifest = JSON.parse(await object.Body!.transformToString());
  expect(manifest.source).toMatchObject({ replicationGroupId: 'sessions', engine: 'valkey', engineVersion: '8.0', parameterGroupFamily: 'valkey8' });

  // A restore in B from what the manifest says. How ElastiCache is let read the replica bucket is
  // the restore workflow's business (not built yet): here the RDBs are copied to a seed bucket whose
  // policy admits the regional service principal.
  await s3.send(new CreateBucketCommand({ Bucket: 'valkey-seed', CreateBucketConfiguration: { LocationConstraint: B } }));
  await s3.send(new PutBucketPolicyCommand({
    Bucket: 'valkey-seed',
    Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: `${B}.elasticache-snapshot.amazonaws.com` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::valkey-seed/*' }] }),
  }));
  for (const shard of manifest.shards) {
    const rdb = await s3.send(new GetObjectCommand({ Bucket: bucketOf(recovery, 'Replica'), Key: shard.object.key }));
    await s3.send(new PutObjectCommand({ Bucket: 'valkey-seed', Key: shard.object.key, Body: await rdb.Body!.transformToByteArray() }));
  }
  const ec = new ElastiCacheClient({ region: B, endpoint: provider.endpoint, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  closers.push(() => ec.destroy());
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'sessions-standby',
    ReplicationGroupDescription: 'standby',
    CacheNodeType: manifest.source.cacheNodeType,
    Engine: manifest.source.engine,
    EngineVersion: manifest.source.engineVersion,
    NumCacheClusters: 1,
    TransitEncryptionEnabled: false,
    SnapshotArns: manifest.shards.map((shard) => `arn:aws:s3:::valkey-seed/${shard.object.key}`),
  }));
  const standby = await groupAvailable(ec, 'sessions-standby');
  expect(standby.Engine).toBe('valkey');
  const restored = new Redis({ host: standby.NodeGroups![0].PrimaryEndpoint!.Address, port: standby.NodeGroups![0].PrimaryEndpoint!.Port });
  closers.push(() => restored.disconnect());
  expect(await restored.dbsize()).toBe(KEYS);
  expect(await restored.get(`session:${KEYS - 1}`)).toBe(`user-${KEYS - 1}`);
});
