/**
 * The two-stack export example (integ/integ.scheduled-export.ts) deployed with the real CDK CLI into
 * an in-process local provider through local/integ-deploy.ts: bootstrap, deploy, keys put into the
 * orders group, the export workflow started through the Step Functions API until it succeeds and
 * its RDB is in the replica bucket, a second version deployed (maintenance window in place, group id
 * replaced: the old group deleted after the new one exists, with a final snapshot), destroy.
 * Prints the wall times and the resource types deployed for real and recorded only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DescribeCacheClustersCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient, ReplicationGroup } from '@aws-sdk/client-elasticache';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListStateMachinesCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import Redis from 'ioredis';
import { buildApp, ExampleAppOptions } from '../../integ/integ.scheduled-export';
import { formatReport, IntegDeployment } from '../../local/integ-deploy';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(1_200_000);

const ACCOUNT = '000000000000';
const A = 'eu-west-1';
const B = 'us-west-2';
const KEYS = 2_000;

let provider: LocalProvider;
let work: string;
let deployment: IntegDeployment;
let ec: ElastiCacheClient;
let previousAccount: string | undefined;
const closers: Array<() => void> = [];

const config = (region: string) => ({ region, endpoint: provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

/** The example app synthesized (version 1: the committed snapshot's; version 2: changed) with the provider's account. */
function synth(name: string, options?: ExampleAppOptions): string {
  const outdir = path.join(work, name);
  buildApp(outdir, options).synth();
  return outdir;
}

async function group(id: string): Promise<ReplicationGroup | undefined> {
  const all = (await ec.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups ?? [];
  return all.find((g) => g.ReplicationGroupId === id);
}

beforeAll(async () => {
  previousAccount = process.env.CDK_INTEG_ACCOUNT;
  process.env.CDK_INTEG_ACCOUNT = ACCOUNT;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-deploy-'));
  provider = await LocalProvider.start({ speed: 600 });
  ec = new ElastiCacheClient(config(A));
  closers.push(() => ec.destroy());
  deployment = new IntegDeployment({
    env: provider.env(),
    app: synth('cdk.out.v1'),
    workDir: work,
    logDir: process.env.INTEG_DEPLOY_LOG_DIR,
    log: (line) => process.stdout.write(`${line}\n`),
  });
});

afterAll(async () => {
  for (const close of closers) close();
  deployment?.cleanup();
  await provider?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  if (previousAccount === undefined) delete process.env.CDK_INTEG_ACCOUNT;
  else process.env.CDK_INTEG_ACCOUNT = previousAccount;
});

test('bootstrap and deploy the example with the real CDK CLI: both stacks complete, the orders group is available', async () => {
  await deployment.bootstrap();
  await deployment.deploy();
  const orders = await group('orders');
  expect(orders?.Status).toBe('available');
  const report = deployment.report();
  expect(report.realTypes).toEqual(expect.arrayContaining(['AWS::ElastiCache::ReplicationGroup', 'AWS::S3::Bucket', 'AWS::StepFunctions::StateMachine', 'AWS::Lambda::Function']));
  expect(report.recordedTypes).toEqual(expect.arrayContaining(['AWS::IAM::Role', 'AWS::EC2::VPC']));
});

test('the export workflow, started through the Step Functions API, succeeds and its RDB reaches the replica bucket', async () => {
  // Keys in the group, so that the RDB holds something: TLS and AUTH (the construct's defaults),
  // the password being the generated secret CloudFormation resolved into the group's AuthToken.
  const orders = (await group('orders'))!;
  const primary = provider.cloudformation(A).stack('ExportPrimary')!;
  const secret = [...primary.resources.values()].find((r) => r.type === 'AWS::SecretsManager::Secret' && r.logicalId.startsWith('Orders'))!;
  const redis = new Redis({
    host: orders.NodeGroups![0].PrimaryEndpoint!.Address,
    port: orders.NodeGroups![0].PrimaryEndpoint!.Port,
    tls: {},
    password: provider.secretsManager.currentValue(A, secret.physicalId),
    maxRetriesPerRequest: 2,
  });
  redis.on('error', () => undefined);
  try {
    const pipeline = redis.pipeline();
    for (let i = 0; i < KEYS; i++) pipeline.set(`order:${i}`, `value-${i}`);
    await pipeline.exec();
    expect(await redis.dbsize()).toBe(KEYS);
  } finally {
    // QUIT while the group is there (a disconnect of a TLS connection leaves a timer behind).
    await redis.quit().catch(() => redis.disconnect());
  }

  const sfn = new SFNClient(config(A));
  closers.push(() => sfn.destroy());
  const machines = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines ?? [];
  const nightly = machines.find((m) => m.name!.includes('NightlyStateMachine'));
  expect(machines.map((m) => m.name)).toContain(nightly?.name);
  const start = Date.now();
  const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: nightly!.stateMachineArn, input: '{}' }));
  const done = await until('the export run ends', async () => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 600_000, 250);
  deployment.timings['export run'] = Date.now() - start;
  if (done.status !== 'SUCCEEDED') process.stderr.write(`export run: ${JSON.stringify(done)}\n`);
  expect(done.status).toBe('SUCCEEDED');

  // The replica bucket in the recovery region gets the RDB through S3 replication (on the simulated clock).
  const recovery = provider.cloudformation(B).stack('ExportRecovery')!;
  const replica = [...recovery.resources.values()].find((r) => r.type === 'AWS::S3::Bucket' && r.logicalId.startsWith('Replica'))!;
  const s3 = new S3Client({ ...config(B), forcePathStyle: true });
  closers.push(() => s3.destroy());
  const rdbs = await until('the RDB in the replica bucket', async () => {
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: replica.physicalId }))).Contents ?? []).map((o) => o.Key!);
    const found = keys.filter((k) => k.endsWith('.rdb'));
    return found.length > 0 ? found : undefined;
  }, 120_000, 250);
  expect(rdbs).toHaveLength(1);
});

test('version 2: the maintenance window changes in place, the new group id replaces the group and the old one leaves a final snapshot', async () => {
  const before = (await group('orders'))!;
  await deployment.deploy(synth('cdk.out.v2', { ordersMaintenanceWindow: 'sun:05:00-sun:06:00', ordersGroupId: 'orders-v2' }), 'deploy v2');
  expect(await group('orders')).toBeUndefined();
  const after = (await group('orders-v2'))!;
  expect(after.Status).toBe('available');
  expect(before.ReplicationGroupId).toBe('orders');
  const members = await ec.send(new DescribeCacheClustersCommand({ CacheClusterId: after.MemberClusters![0] }));
  expect(members.CacheClusters![0].PreferredMaintenanceWindow).toBe('sun:05:00-sun:06:00');
  // RemovalPolicy.SNAPSHOT (the construct's default) sets DeletionPolicy and UpdateReplacePolicy Snapshot.
  const finals = ((await ec.send(new DescribeSnapshotsCommand({ SnapshotSource: 'user' }))).Snapshots ?? []).filter((s) => s.ReplicationGroupId === 'orders' && s.SnapshotName!.includes('final'));
  expect(finals.map((s) => s.SnapshotStatus)).toEqual(['available']);
});

test('an in-place change alone keeps the group: the maintenance window of the same group changes', async () => {
  const before = (await group('orders-v2'))!;
  await deployment.deploy(synth('cdk.out.v3', { ordersMaintenanceWindow: 'mon:05:00-mon:06:00', ordersGroupId: 'orders-v2' }), 'deploy v3');
  const members = await ec.send(new DescribeCacheClustersCommand({}));
  const member = members.CacheClusters!.find((c) => c.ReplicationGroupId === 'orders-v2')!;
  expect(member.PreferredMaintenanceWindow).toBe('mon:05:00-mon:06:00');
  // The same group: not replaced (its ARN and members unchanged).
  const after = (await group('orders-v2'))!;
  expect([after.ARN, after.MemberClusters]).toEqual([before.ARN, before.MemberClusters]);
});

test('destroy removes both stacks and every group; no redis-server is left', async () => {
  await deployment.destroy(path.join(work, 'cdk.out.v3'));
  expect(((await ec.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups ?? [])).toEqual([]);
  // No redis-server of this provider is left running (its command line names a file in the provider's data folder).
  const running = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf-8');
      return cmd.includes('redis-server') && cmd.includes(provider.dataDir);
    } catch {
      return false;
    }
  });
  expect(running).toEqual([]);
  const report = deployment.report();
  process.stdout.write(`integ:scheduled-export on the local provider\n${formatReport(report).join('\n')}\n`);
});
