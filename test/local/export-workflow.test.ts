/**
 * The scheduled export workflow, as CDK synthesized it, run against the local provider: the two
 * stacks of an app (primary region, recovery region) deployed into the provider from their
 * templates, the state machine's definition taken from the template, its Lambda tasks bound to the
 * bundled handler modules, its AWS SDK tasks sent to the local endpoints.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateSnapshotCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { GetBucketAclCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import Redis from 'ioredis';
import * as handlers from '../../lambda/handlers/index';
import * as steps from '../../lambda/handlers/steps';
import { Deployment, deployStack } from '../../local/deploy';
import { LocalProvider } from '../../local/provider';
import { RedisServer } from '../../local/redis/server';
import { runStateMachine, StateMachineRun } from '../../local/sfn';
import { snapshotAvailable } from '../../local/waiters';
import { RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket } from '../../src';
import { ExportManifest } from '../../src/private/export-workflow-contract';

jest.setTimeout(300_000);

const A = 'eu-west-1';
const B = 'us-west-2';
const ACCOUNT = '000000000000';
const KEYS = 20_000;
const SNAPSHOT_MINUTES = 10;

let provider: LocalProvider;
let primary: Deployment;
let recovery: Deployment;
let workflowId: string;
const saved = { ...process.env };
const closers: Array<() => void> = [];

/** The app a user would write: the group and its export workflow in A, the replica bucket in B. */
function synth(): { main: any; dr: any } {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: B } });
  const main = new Stack(app, 'Main', { env: { account: ACCOUNT, region: A } });
  const vpc = new ec2.Vpc(main, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const group = new RedisReplicationGroup(main, 'Orders', { vpc, nodeType: 'cache.r7g.large', replicationGroupId: 'orders' });
  const replica = new SnapshotReplicaBucket(dr, 'Replica');
  const exportBucket = new SnapshotExportBucket(main, 'Exports', { replica });
  new ScheduledSnapshotExport(main, 'Nightly', { replicationGroup: group, exportBucket, keep: 2, snapshotPrefix: 'orders-x' });
  const asm = app.synth();
  return { main: asm.getStackByName('Main').template, dr: asm.getStackByName('Dr').template };
}

const clientConfig = (region: string) => ({ region, endpoint: provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const clients = new Map<string, any>();
function cached<T extends { destroy(): void }>(key: string, make: () => T): T {
  if (!clients.has(key)) clients.set(key, make());
  return clients.get(key);
}
const ec = () => cached('ec', () => new ElastiCacheClient(clientConfig(A)));
const s3 = (region: string) => cached(`s3-${region}`, () => new S3Client({ ...clientConfig(region), forcePathStyle: true }));

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

async function run(options: { timeoutSeconds?: number; abortAfterSeconds?: number } = {}): Promise<StateMachineRun> {
  return runStateMachine({ provider, deployment: primary, stateMachine: workflowId, lambdas: { 'index.exportWorkflowStep': steps.exportWorkflowStep as any }, ...options });
}

async function workflowSnapshots(): Promise<string[]> {
  const out = await ec().send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'orders', SnapshotSource: 'user' }));
  return (out.Snapshots ?? []).map((s) => s.SnapshotName!).filter((n) => n.startsWith('orders-x-')).sort();
}

async function keys(bucket: string, region: string): Promise<string[]> {
  const out = await s3(region).send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

beforeAll(async () => {
  const templates = synth();
  provider = await LocalProvider.start({ speed: 600, timings: { snapshot: SNAPSHOT_MINUTES * 60_000 } });
  // The handlers' plain SDK clients reach the provider through the endpoint variables.
  Object.assign(process.env, provider.env(), { AWS_REGION: A });
  recovery = await deployStack(provider, templates.dr, { stackName: 'Dr', region: B, account: ACCOUNT, customResources: handlers });
  primary = await deployStack(provider, templates.main, { stackName: 'Main', region: A, account: ACCOUNT, customResources: handlers });
  workflowId = logicalIdOf(templates.main, 'AWS::StepFunctions::StateMachine', 'NightlyStateMachine');

  // Data to back up.
  const client = new Redis({
    host: primary.attrs.get(`${logicalIdOf(templates.main, 'AWS::ElastiCache::ReplicationGroup')}.PrimaryEndPoint.Address`)!,
    port: Number(primary.attrs.get(`${logicalIdOf(templates.main, 'AWS::ElastiCache::ReplicationGroup')}.PrimaryEndPoint.Port`)),
    maxRetriesPerRequest: 2,
    // The template's group has in-transit encryption (the construct's default): its nodes speak TLS only.
    tls: {},
    // And an AUTH token (also the default): the generated secret's value, which CloudFormation resolved into the group's AuthToken.
    password: provider.secretsManager.currentValue(A, primary.refs.get(logicalIdOf(templates.main, 'AWS::SecretsManager::Secret', 'Orders'))!),
  });
  closers.push(() => client.disconnect());
  const pipeline = client.pipeline();
  for (let i = 0; i < KEYS; i++) pipeline.set(`order:${i}`, `value-${i}`);
  await pipeline.exec();
  await client.wait(1, 10_000);
});

afterAll(async () => {
  for (const close of closers) close();
  for (const c of clients.values()) c.destroy();
  await provider?.stop();
  process.env = saved;
});

test('the deployed export bucket admits ElastiCache through its ACL, keeping the owner\'s grant', async () => {
  const acl = await s3(A).send(new GetBucketAclCommand({ Bucket: bucketOf(primary, 'Exports') }));
  const grants = (acl.Grants ?? []).map((g) => `${g.Grantee?.ID?.slice(0, 8)}:${g.Permission}`).sort();
  expect(grants).toEqual(['540804c3:READ', '540804c3:READ_ACP', '540804c3:WRITE', '540804c3:WRITE_ACP', `${acl.Owner!.ID!.slice(0, 8)}:FULL_CONTROL`].sort());

  // A retried Create changes nothing.
  const props = primary.resolve(primary.template.Resources[logicalIdOf(primary.template, 'Custom::SnapshotExportBucketAcl')].Properties);
  await handlers.onEvent({ RequestType: 'Create', ResourceType: 'Custom::SnapshotExportBucketAcl', ResourceProperties: props } as Parameters<typeof handlers.onEvent>[0]);
  const again = await s3(A).send(new GetBucketAclCommand({ Bucket: bucketOf(primary, 'Exports') }));
  expect(again.Grants).toEqual(acl.Grants);
});

let first: StateMachineRun;

test('a run snapshots from the replica, exports, verifies, and waits for the copy in the recovery region', async () => {
  first = await run();
  expect(first.error ?? first.status).toBe('SUCCEEDED');
  const name: string = first.output.plan.snapshotName;
  expect(name).toMatch(/^orders-x-\d{8}-\d{6}$/);
  expect(first.output.export.objects).toEqual([
    expect.objectContaining({ key: `${name}-0001.rdb` }), expect.objectContaining({ key: `${name}.manifest.json` }),
  ]);
  expect(first.output.replica.replicated).toBe(true);
  expect(first.notifications).toEqual([]);

  const snapshot = (await ec().send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots![0];
  expect(snapshot.NodeSnapshots![0].CacheClusterId).toBe('orders-002');
  const copy = await s3(B).send(new HeadObjectCommand({ Bucket: bucketOf(recovery, 'Replica'), Key: `${name}-0001.rdb` }));
  expect(copy.ReplicationStatus).toBe('REPLICA');
  expect(copy.ServerSideEncryption).toBe('AES256');

  // The cost of one run whose snapshot takes 10 simulated minutes.
  // eslint-disable-next-line no-console
  console.log(`export run: ${first.stateTransitions} state transitions, ${first.lambdaInvocations} Lambda invocations, `
    + `${first.simulatedMinutes} simulated minutes, task calls ${JSON.stringify(first.taskCalls)}`);
  expect(first.taskCalls.DescribeSnapshot).toBe(SNAPSHOT_MINUTES / 2);
});

test('the run\'s manifest is replicated with the RDB and says what a restore needs', async () => {
  const name: string = first.output.plan.snapshotName;
  const object = await s3(B).send(new GetObjectCommand({ Bucket: bucketOf(recovery, 'Replica'), Key: `${name}.manifest.json` }));
  expect(object.ReplicationStatus).toBe('REPLICA');
  const manifest: ExportManifest = JSON.parse(await object.Body!.transformToString());
  const rdb = await s3(B).send(new HeadObjectCommand({ Bucket: bucketOf(recovery, 'Replica'), Key: `${name}-0001.rdb` }));
  const snapshot = (await ec().send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots![0];
  const rdbObject = { key: `${name}-0001.rdb`, size: rdb.ContentLength, etag: rdb.ETag };
  expect(manifest).toEqual({
    manifestVersion: 1,
    runName: name,
    snapshotTime: snapshot.NodeSnapshots![0].SnapshotCreateTime!.toISOString(),
    writtenAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    source: {
      replicationGroupId: 'orders',
      region: A,
      clusterMode: 'disabled',
      replicasPerShard: 1,
      port: 6379,
      authToken: true,
      engine: 'redis',
      engineVersion: snapshot.EngineVersion,
      cacheNodeType: 'cache.r7g.large',
      parameterGroupFamily: 'redis7',
      dataTiering: false,
    },
    // Every key written before the snapshot, as the RDB's header records it (none expires), and the
    // first key the file holds, one of those written.
    shards: [{ nodeGroupId: '0001', object: rdbObject, keys: KEYS, expires: 0, sampleKey: expect.stringMatching(/^order:\d+$/) }],
    objects: [rdbObject],
    keyCount: KEYS,
  });
});

test('the replicated RDB loads into a fresh redis-server with every key that was written', async () => {
  const name: string = first.output.plan.snapshotName;
  const object = await s3(B).send(new GetObjectCommand({ Bucket: bucketOf(recovery, 'Replica'), Key: `${name}-0001.rdb` }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-'));
  fs.writeFileSync(path.join(dir, 'dump.rdb'), Buffer.from(await object.Body!.transformToByteArray()));
  const server = await RedisServer.start({ dir, dbfilename: 'dump.rdb' });
  const client = server.client();
  try {
    expect(await client.dbsize()).toBe(KEYS);
    expect(await client.get(`order:${KEYS - 1}`)).toBe(`value-${KEYS - 1}`);
  } finally {
    client.disconnect();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runs beyond keep are pruned, only once verified in the replica', async () => {
  await provider.clock.advance(Duration.days(1).toMilliseconds());
  const second = await run();
  expect(second.status).toBe('SUCCEEDED');
  expect(second.output.prune).toEqual({ pruned: [], kept: [] });
  await provider.clock.advance(Duration.days(1).toMilliseconds());
  const third = await run();
  expect(third.status).toBe('SUCCEEDED');
  const firstName = first.output.plan.snapshotName;
  expect(third.output.prune).toEqual({ pruned: [firstName], kept: [] });
  expect(await workflowSnapshots()).toEqual([second.output.plan.snapshotName, third.output.plan.snapshotName]);
  const [n2, n3] = [second.output.plan.snapshotName, third.output.plan.snapshotName];
  expect(await keys(bucketOf(primary, 'Exports'), A)).toEqual([`${n2}-0001.rdb`, `${n2}.manifest.json`, `${n3}-0001.rdb`, `${n3}.manifest.json`]);
});

describe('failure paths end with the cause, a notification, and nothing pruned', () => {
  let before: string[];
  beforeEach(async () => {
    await provider.clock.advance(Duration.days(1).toMilliseconds());
    before = await workflowSnapshots();
  });

  async function expectNothingPruned(): Promise<void> {
    const after = await workflowSnapshots();
    for (const name of before) expect(after).toContain(name);
  }

  test('a busy group is retried with backoff and the run then succeeds', async () => {
    // A manual snapshot from the workflow's source member keeps it busy for 10 simulated minutes
    // (one real second: under load it may be over before the run starts), and the member answers
    // the run's first CreateSnapshot as busy in any case, so the retry is there to be seen.
    await ec().send(new CreateSnapshotCommand({ CacheClusterId: 'orders-002', SnapshotName: 'someone-elses' }));
    provider.elasticache(A).failNextCalls('CreateSnapshot', 'InvalidCacheClusterState', 1);
    const busy = await run();
    expect(busy.retries.filter((r) => r.state === 'TakeSnapshot').map((r) => r.error)).toContain('ElastiCache.InvalidCacheClusterStateException');
    expect(busy.error ?? busy.status).toBe('SUCCEEDED');
    await snapshotAvailable(ec(), 'someone-elses');
    expect(await workflowSnapshots()).not.toContain('someone-elses');
  });

  test('a failed snapshot fails the run with SnapshotFailed', async () => {
    provider.elasticache(A).faults.failSnapshots = 1;
    const out = await run();
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('SnapshotFailed');
    expect(out.cause).toMatch(/ended in status failed/);
    expect(out.notifications).toHaveLength(1);
    expect(out.notifications[0].message).toMatchObject({ replicationGroupId: 'orders', error: 'SnapshotFailed' });
    // Published once: the rule for runs that stop without finishing does not take failed ones.
    expect(out.triggered).toEqual([]);
    expect(out.path).not.toContain('Prune');
    await expectNothingPruned();
  });

  test('throttling is retried and the run then succeeds', async () => {
    provider.elasticache(A).failNextCalls('CreateSnapshot', 'Throttling', 2);
    const out = await run();
    expect(out.retries.filter((r) => r.state === 'TakeSnapshot').map((r) => r.error)).toEqual(['ElastiCache.ThrottlingException', 'ElastiCache.ThrottlingException']);
    expect(out.error ?? out.status).toBe('SUCCEEDED');
  });

  let unreplicated: string;
  test('an object S3 could not replicate fails the run with ReplicationFailed', async () => {
    provider.s3.faults.failReplications = 1;
    const out = await run();
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('ReplicationFailed');
    expect(out.path).not.toContain('Prune');
    await expectNothingPruned();
    unreplicated = (out.notifications[0].message as any).run.plan.snapshotName;
    expect(before).not.toContain(unreplicated);
  });

  test('later runs prune past keep, but keep the run whose export never reached the replica', async () => {
    const one = await run();
    expect(one.error ?? one.status).toBe('SUCCEEDED');
    await provider.clock.advance(Duration.days(1).toMilliseconds());
    const two = await run();
    expect(two.error ?? two.status).toBe('SUCCEEDED');
    // Newest first: two, one (the two kept), then the unreplicated run, past keep but unverified.
    expect(two.output.prune.kept).toEqual([unreplicated]);
    expect(await workflowSnapshots()).toEqual([unreplicated, one.output.plan.snapshotName, two.output.plan.snapshotName].sort());
  });

  /** Lets the slowed snapshot of a stopped run finish, so that the group is free for the next run. */
  async function finishSnapshot(): Promise<void> {
    await provider.clock.advance(Duration.hours(3).toMilliseconds());
    for (const name of await workflowSnapshots()) await snapshotAvailable(ec(), name);
  }

  test('a stalled snapshot ends the run with SnapshotIncomplete after its bound, published once', async () => {
    // The snapshot takes 3 hours more than usual; the bound is 2 hours (60 checks, 2 minutes apart).
    provider.elasticache(A).faults.snapshotDelays.push(Duration.hours(3).toMilliseconds());
    const out = await run();
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('SnapshotIncomplete');
    expect(out.cause).toMatch(/^Snapshot orders-x-\d{8}-\d{6} is still creating after 60 checks \(2 hours\); it was not exported and nothing was pruned$/);
    expect(out.taskCalls.DescribeSnapshot).toBe(60);
    expect(out.simulatedMinutes).toBeGreaterThanOrEqual(120);
    expect(out.simulatedMinutes).toBeLessThan(6 * 60);
    expect(out.notifications).toHaveLength(1);
    expect(out.notifications[0].message).toMatchObject({ replicationGroupId: 'orders', error: 'SnapshotIncomplete' });
    expect(out.triggered).toEqual([]);
    expect(out.path).not.toContain('ExportSnapshot');
    await expectNothingPruned();
    await finishSnapshot();
  });

  test('a run that times out is published once, by the rule on its status', async () => {
    provider.elasticache(A).faults.snapshotDelays.push(Duration.hours(1).toMilliseconds());
    // A timeout shorter than the template's, as if the steps had taken longer than their allowance.
    const out = await run({ timeoutSeconds: Duration.minutes(30).toSeconds() });
    expect(out.status).toBe('TIMED_OUT');
    expect(out.path).not.toContain('NotifyFailure');
    expect(out.triggered.map((t) => [t.stateMachine.replace(/[0-9A-F]{8}$/, ''), t.run.status])).toEqual([['NightlyStoppedRunNotifier', 'SUCCEEDED']]);
    expect(out.notifications).toHaveLength(1);
    expect(out.notifications[0].topicArn).toBe(primary.resolve({ Ref: logicalIdOf(primary.template, 'AWS::SNS::Topic') }));
    expect(out.notifications[0].message).toMatchObject({ replicationGroupId: 'orders', error: 'TIMED_OUT', execution: expect.stringContaining(':execution:') });
    await expectNothingPruned();
    await finishSnapshot();
  });

  test('an aborted run is published once, by the rule on its status', async () => {
    provider.elasticache(A).faults.snapshotDelays.push(Duration.hours(1).toMilliseconds());
    const out = await run({ abortAfterSeconds: Duration.minutes(20).toSeconds() });
    expect(out.status).toBe('ABORTED');
    expect(out.notifications).toHaveLength(1);
    expect(out.notifications[0].message).toMatchObject({ replicationGroupId: 'orders', error: 'ABORTED' });
    await expectNothingPruned();
    await finishSnapshot();
  });

  test('an export the bucket refuses fails the run with the service\'s error', async () => {
    // The ACL grant is taken away, as deleting the grant resource would.
    await handlers.onEvent({
      RequestType: 'Delete',
      ResourceType: 'Custom::SnapshotExportBucketAcl',
      PhysicalResourceId: 'x',
      ResourceProperties: primary.resolve(primary.template.Resources[logicalIdOf(primary.template, 'Custom::SnapshotExportBucketAcl')].Properties),
    } as Parameters<typeof handlers.onEvent>[0]);
    const out = await run();
    expect(out.status).toBe('FAILED');
    expect(out.error).toBe('ElastiCache.InvalidParameterValueException');
    expect(out.cause).toMatch(/has not been granted/);
    expect(out.notifications).toHaveLength(1);
    expect(out.path).not.toContain('Prune');
    await expectNothingPruned();
  });
});
