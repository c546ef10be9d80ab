/**
 * Issue 9: `StandbyRestore`, as CDK synthesized it, run against the local provider after the export
 * workflow of the same app: the two stacks deployed from their templates, both state machines'
 * definitions taken from the templates, their Lambda tasks bound to the handler modules, their AWS
 * SDK tasks sent to the local endpoints. The standby is restored in the recovery region from the
 * replicated export, checked, and the name applications use is moved to it (or, in a rehearsal,
 * left alone while the standby is deleted).
 */
import { promises as dns } from 'dns';
import { DescribeReplicationGroupsCommand, ElastiCacheClient, ListTagsForResourceCommand } from '@aws-sdk/client-elasticache';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import Redis, { Cluster } from 'ioredis';
import * as handlers from '../../lambda/handlers/index';
import { checkStandby } from '../../lambda/handlers/standby-check';
import * as restoreSteps from '../../lambda/handlers/standby-restore';
import * as steps from '../../lambda/handlers/steps';
import { Deployment, deployStack } from '../../local/deploy';
import { LocalProvider } from '../../local/provider';
import { runStateMachine, StateMachineRun } from '../../local/sfn';
import { ClusterMode, RedisAuthentication, RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, StandbyRestore } from '../../src';
import { ExportManifest } from '../../src/private/export-workflow-contract';
import { CutoverOutput, FindExportOutput } from '../../src/private/standby-restore-contract';

jest.setTimeout(600_000);

const A = 'eu-west-1';
const B = 'us-west-2';
const ACCOUNT = '000000000000';
const ZONE = 'corp.internal';
const NAME = `orders.${ZONE}`;

interface Fixture {
  readonly provider: LocalProvider;
  readonly primary: Deployment;
  readonly recovery: Deployment;
  readonly keys: number;
  readonly close: () => Promise<void>;
}

/** The app a user would write: the group and its export workflow in A; replica, zone and restore in B. */
function synth(clusterMode: boolean, auth = false): { main: any; dr: any } {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: B } });
  const main = new Stack(app, 'Main', { env: { account: ACCOUNT, region: A } });
  const isolated = (scope: Stack) => new ec2.Vpc(scope, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const group = new RedisReplicationGroup(main, 'Orders', {
    vpc: isolated(main),
    nodeType: 'cache.r7g.large',
    replicationGroupId: 'orders',
    ...(clusterMode ? { clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1 } : {}),
    // The standbys here have no AUTH token, so the source has none either; a source with one (its
    // token generated in the provider's Secrets Manager) is refused (below).
    authentication: auth ? RedisAuthentication.authToken() : RedisAuthentication.none(),
  });
  const replica = new SnapshotReplicaBucket(dr, 'Replica');
  const exportBucket = new SnapshotExportBucket(main, 'Exports', { replica });
  new ScheduledSnapshotExport(main, 'Nightly', { replicationGroup: group, exportBucket, snapshotPrefix: 'orders-x' });
  const drVpc = isolated(dr);
  new StandbyRestore(dr, 'Restore', {
    replicaBucket: replica,
    snapshotPrefix: 'orders-x',
    vpc: drVpc,
    hostedZone: new route53.PrivateHostedZone(dr, 'Zone', { zoneName: ZONE, vpc: drVpc }),
    recordName: 'orders',
    standbyIdPrefix: 'orders-standby',
    waits: { create: Duration.minutes(2), dns: Duration.seconds(20) },
  });
  const asm = app.synth();
  return { main: asm.getStackByName('Main').template, dr: asm.getStackByName('Dr').template };
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

function logicalIdOf(template: any, type: string, prefix: string): string {
  const ids = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === type && id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function bucketOf(d: Deployment, prefix: string): string {
  return d.refs.get(logicalIdOf(d.template, 'AWS::S3::Bucket', prefix))!;
}

async function start(clusterMode: boolean, keys: number, auth = false): Promise<Fixture> {
  const templates = synth(clusterMode, auth);
  const provider = await LocalProvider.start({ speed: 600 });
  const saved = { ...process.env };
  Object.assign(process.env, provider.env(), { AWS_REGION: A });
  const recovery = await deployStack(provider, templates.dr, { stackName: 'Dr', region: B, account: ACCOUNT, customResources: handlers });
  const primary = await deployStack(provider, templates.main, { stackName: 'Main', region: A, account: ACCOUNT, customResources: handlers });
  const groupId = logicalIdOf(templates.main, 'AWS::ElastiCache::ReplicationGroup', 'Orders');
  const address = primary.attrs.get(`${groupId}.${clusterMode ? 'ConfigurationEndPoint' : 'PrimaryEndPoint'}.Address`)!;
  const ec = new ElastiCacheClient({ region: A, endpoint: provider.endpoint, credentials });
  const described = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'orders' }))).ReplicationGroups![0];
  ec.destroy();
  const endpoint = clusterMode ? described.ConfigurationEndpoint! : described.NodeGroups![0].PrimaryEndpoint!;
  expect(endpoint.Address).toBe(address);
  // The group has in-transit encryption (the construct's default): its nodes speak TLS only.
  expect(described.TransitEncryptionEnabled).toBe(true);
  const client = clusterMode
    ? new Cluster([{ host: endpoint.Address!, port: endpoint.Port! }], { redisOptions: { maxRetriesPerRequest: 2, tls: {} } })
    : new Redis({
      host: endpoint.Address!, port: endpoint.Port!, maxRetriesPerRequest: 2, tls: {}, password: auth ? token(provider, primary) : undefined,
    });
  for (let i = 0; i < keys; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, keys - i) }, (_, j) => i + j);
    await Promise.all(batch.map((n) => client.set(`order:${n}`, `value-${n}`)));
  }
  client.disconnect();
  return {
    provider,
    primary,
    recovery,
    keys,
    close: async () => {
      await provider.stop();
      process.env = saved;
    },
  };
}

/** The source's AUTH token: the value of its generated secret, which CloudFormation resolved into the group's AuthToken. */
function token(provider: LocalProvider, d: Deployment): string {
  const secret = logicalIdOf(d.template, 'AWS::SecretsManager::Secret', 'Orders');
  return provider.secretsManager.currentValue(A, d.refs.get(secret)!)!;
}

async function exportRun(f: Fixture): Promise<StateMachineRun> {
  process.env.AWS_REGION = A;
  return runStateMachine({
    provider: f.provider,
    deployment: f.primary,
    stateMachine: logicalIdOf(f.primary.template, 'AWS::StepFunctions::StateMachine', 'NightlyStateMachine'),
    lambdas: { 'index.exportWorkflowStep': steps.exportWorkflowStep as any },
  });
}

async function restoreRun(f: Fixture, input: unknown): Promise<StateMachineRun> {
  // The restore's functions run in the recovery region.
  process.env.AWS_REGION = B;
  return runStateMachine({
    provider: f.provider,
    deployment: f.recovery,
    stateMachine: logicalIdOf(f.recovery.template, 'AWS::StepFunctions::StateMachine', 'RestoreStateMachine'),
    lambdas: { 'index.handler': restoreSteps.handler as any, 'index.checkStandby': checkStandby as any },
    input,
  });
}

async function readManifest(c: S3Client, bucket: string, key: string): Promise<ExportManifest> {
  const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await got.Body!.transformToString()) as ExportManifest;
}

const ecB = (f: Fixture) => new ElastiCacheClient({ region: B, endpoint: f.provider.endpoint, credentials });
const s3B = (f: Fixture) => new S3Client({ region: B, endpoint: f.provider.endpoint, credentials, forcePathStyle: true });
const r53 = (f: Fixture) => new Route53Client({ region: 'us-east-1', endpoint: f.provider.endpoint, credentials });

async function groupIds(f: Fixture): Promise<string[]> {
  const c = ecB(f);
  try {
    return ((await c.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups ?? [])
      .filter((g) => g.Status !== 'deleting').map((g) => g.ReplicationGroupId!).sort();
  } finally {
    c.destroy();
  }
}

/**
 * Reads every key back through the name, resolved by the provider's DNS server with Node's resolver
 * (c-ares over UDP), as an application in the recovery region would; the port is the standby's.
 */
async function readThroughName(f: Fixture, port: number, clusterMode: boolean): Promise<number> {
  const resolver = new dns.Resolver();
  resolver.setServers([`${f.provider.dns.host}:${f.provider.dns.port}`]);
  const [target] = await resolver.resolveCname(NAME);
  // The standby has in-transit encryption (StandbyRestore's default), as the check that passed it used.
  const client = clusterMode
    ? new Cluster([{ host: target, port }], { redisOptions: { maxRetriesPerRequest: 2, tls: {} } })
    : new Redis({ host: target, port, maxRetriesPerRequest: 2, tls: {} });
  try {
    let good = 0;
    for (let i = 0; i < f.keys; i += 500) {
      const batch = Array.from({ length: Math.min(500, f.keys - i) }, (_, j) => i + j);
      const values = await Promise.all(batch.map((n) => client.get(`order:${n}`)));
      good += values.filter((v, j) => v === `value-${batch[j]}`).length;
    }
    return good;
  } finally {
    client.disconnect();
  }
}

describe.each([
  ['cluster mode disabled', false],
  ['cluster mode enabled, 3 shards', true],
])('%s: export, then failover in the recovery region', (_name, clusterMode) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await start(clusterMode, 3000);
  });
  afterAll(async () => f?.close());

  test('the export workflow runs, then StandbyRestore restores, checks, moves the name, and every key reads back through it', async () => {
    const exported = await exportRun(f);
    expect(exported.status).toBe('SUCCEEDED');
    const run = await restoreRun(f, { mode: 'failover' });
    expect({ status: run.status, error: run.error, cause: run.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    const result = run.output;
    expect(result.mode).toBe('failover');
    expect(result.runName).toMatch(/^orders-x-\d{8}-\d{6}$/);
    expect(result.standby).toMatch(/^orders-standby-\d{6}-\d{6}$/);
    expect(result.keys).toBe(f.keys);
    expect(result.skipped).toEqual([]);
    expect(result.dns).toEqual({ record: `${NAME}.`, oldTarget: null, newTarget: result.endpoint.address });
    // RPO: the export's snapshot to the run's start; RTO: the start to DNS in sync (simulated clock).
    expect(result.rpoSeconds).toBeGreaterThan(0);
    expect(result.rtoSeconds).toBeGreaterThanOrEqual(2 * 60);
    expect(run.notifications.map((n) => (n.message as any).result?.standby)).toEqual([result.standby]);
    process.stdout.write(`failover run (${clusterMode ? '3 shards' : '1 shard'}): ${run.stateTransitions} state transitions, `
      + `${run.lambdaInvocations} Lambda invocations, ${run.simulatedMinutes} simulated minutes; path ${run.path.join(' > ')}\n`);

    // The standby: new, seeded from the export, shaped from its manifest, tagged as the workflow's.
    const ec = ecB(f);
    try {
      const standby = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: result.standby }))).ReplicationGroups![0];
      expect(standby.Status).toBe('available');
      expect(standby.ClusterEnabled).toBe(clusterMode);
      expect(standby.NodeGroups).toHaveLength(clusterMode ? 3 : 1);
      expect(standby.CacheNodeType).toBe('cache.r7g.large');
      const tags = await ec.send(new ListTagsForResourceCommand({ ResourceName: standby.ARN }));
      expect(tags.TagList).toEqual(expect.arrayContaining([{ Key: 'cdk-elasticache-backup:restored-from', Value: result.runName }]));
    } finally {
      ec.destroy();
    }
    expect(await readThroughName(f, result.endpoint.port, clusterMode)).toBe(f.keys);
  });
});

describe('failure paths, rehearsal, and what a run leaves (cluster mode disabled)', () => {
  let f: Fixture;
  let replicaBucket: string;
  let zoneId: string;
  beforeAll(async () => {
    f = await start(false, 500);
    replicaBucket = bucketOf(f.recovery, 'Replica');
    zoneId = f.recovery.refs.get(logicalIdOf(f.recovery.template, 'AWS::Route53::HostedZone', 'Zone'))!;
  });
  afterAll(async () => f?.close());

  const objects = async () => {
    const c = s3B(f);
    try {
      return ((await c.send(new ListObjectsV2Command({ Bucket: replicaBucket }))).Contents ?? []).map((o) => o.Key!).sort();
    } finally {
      c.destroy();
    }
  };
  const record = async () => {
    const c = r53(f);
    try {
      const sets = await c.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
      return (sets.ResourceRecordSets ?? []).filter((r) => r.Type === 'CNAME').map((r) => `${r.Name} ${r.ResourceRecords?.[0]?.Value}`);
    } finally {
      c.destroy();
    }
  };
  const expectOneFailure = (run: StateMachineRun, error: string) => {
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe(error);
    expect(run.notifications).toHaveLength(1);
    expect((run.notifications[0].message as any).error).toBe(error);
  };

  test('no export yet: NoCompleteExport, nothing created, DNS untouched, one notification', async () => {
    const before = await groupIds(f);
    const run = await restoreRun(f, { mode: 'failover' });
    expectOneFailure(run, 'NoCompleteExport');
    expect(run.cause).toContain(`no complete export named orders-x-YYYYMMDD-HHMMSS is in s3://${replicaBucket}`);
    expect(await groupIds(f)).toEqual(before);
    expect(await record()).toEqual([]);
  });

  test.each([
    ['no mode', {}, 'mode is missing'],
    ['an unknown mode', { mode: 'cutover' }, 'mode is "cutover"'],
    ['a run name of another workflow', { mode: 'failover', runName: 'other-20260101-000000' }, 'runName is "other-20260101-000000"'],
  ])('bad input (%s): InvalidInput, nothing created', async (_name, input, cause) => {
    const before = await groupIds(f);
    const run = await restoreRun(f, input);
    expectOneFailure(run, 'InvalidInput');
    expect(run.cause).toContain(cause);
    expect(await groupIds(f)).toEqual(before);
  });

  test('the newest export is incomplete (its RDB is missing): an older complete one is restored, and the newer one is named as skipped', async () => {
    expect((await exportRun(f)).status).toBe('SUCCEEDED');
    await f.provider.clock.advance(60 * 60_000);
    expect((await exportRun(f)).status).toBe('SUCCEEDED');
    const runs = (await objects()).filter((k) => k.endsWith('.manifest.json')).map((k) => k.replace('.manifest.json', ''));
    expect(runs).toHaveLength(2);
    const [older, newer] = runs;
    const c = s3B(f);
    try {
      await c.send(new DeleteObjectCommand({ Bucket: replicaBucket, Key: `${newer}-0001.rdb` }));
    } finally {
      c.destroy();
    }
    const run = await restoreRun(f, { mode: 'rehearsal' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.runName).toBe(older);
    expect(run.output.skipped).toEqual([{ runName: newer, reason: `${newer}-0001.rdb (shard 0001) is not in the replica bucket` }]);
  });

  test('rehearsal: restores, checks, records, deletes only its own standby, and leaves DNS alone', async () => {
    const before = await groupIds(f);
    const run = await restoreRun(f, { mode: 'rehearsal' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output.mode).toBe('rehearsal');
    expect(run.output.dns).toBeUndefined();
    expect(run.output.keys).toBe(f.keys);
    expect(run.path).toContain('DeleteRehearsalStandby');
    expect(run.path).not.toContain('MoveDns');
    const ec = ecB(f);
    try {
      const standby = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: run.output.standby }))).ReplicationGroups?.[0];
      expect(standby?.Status ?? 'gone').toMatch(/^(deleting|gone)$/);
    } catch (e) {
      expect((e as Error).name).toBe('ReplicationGroupNotFoundFault');
    } finally {
      ec.destroy();
    }
    expect(await groupIds(f)).toEqual(before);
    expect(await record()).toEqual([]);
  });

  test('a corrupt RDB: the standby ends restore-failed, RestoreFailed, DNS untouched, the standby kept for inspection', async () => {
    const c = s3B(f);
    let runName: string;
    try {
      const manifests = (await objects()).filter((k) => k.endsWith('.manifest.json'));
      runName = manifests[0].replace('.manifest.json', '');
      const manifest = await readManifest(c, replicaBucket, manifests[0]);
      // Same size, garbage content: the find step (sizes) accepts it, the engine cannot load it.
      await c.send(new PutObjectCommand({ Bucket: replicaBucket, Key: `${runName}-0001.rdb`, Body: Buffer.alloc(manifest.shards[0].object.size, 0x41) }));
    } finally {
      c.destroy();
    }
    const run = await restoreRun(f, { mode: 'failover', runName });
    expectOneFailure(run, 'RestoreFailed');
    expect(run.cause).toContain('restore-failed');
    expect(await record()).toEqual([]);
    const standby = (run.notifications[0].message as any).run.standby.replicationGroupId;
    expect(await groupIds(f)).toContain(standby);
  });

  test('a retried create step finds its own standby and goes on; a group of another run with that id is not touched', async () => {
    process.env.AWS_REGION = B;
    const [runName] = (await objects()).filter((k) => k.endsWith('.manifest.json')).map((k) => k.replace('.manifest.json', ''));
    const startTime = new Date(f.provider.clock.now()).toISOString();
    const found = await restoreSteps.handler({
      step: 'findExport',
      request: { mode: 'rehearsal', runName },
      bucket: replicaBucket,
      exportPrefix: 'orders-x',
      standbyPrefix: 'orders-standby',
      startTime,
      record: { hostedZoneId: zoneId, recordName: `${NAME}.` },
    }) as FindExportOutput;
    const create = (workflow: string, executionName = 'run-1') => restoreSteps.handler({
      step: 'createStandby',
      executionName,
      bucket: replicaBucket,
      grantObjectRead: true,
      found,
      workflow,
      shape: { port: 6379, cacheSubnetGroupName: 'local', securityGroupIds: [], transitEncryption: false, snapshotRetentionLimit: 1, multiAz: false },
    });
    const first = await create('orders-standby');
    await expect(create('orders-standby')).resolves.toEqual(first);
    await expect(create('another-workflow')).rejects.toMatchObject({ name: 'ReplicationGroupAlreadyExistsFault' });
    // Another run started in the same second (a duplicate delivery) does not take this run's standby.
    await expect(create('orders-standby', 'run-2')).rejects.toMatchObject({ name: 'ReplicationGroupAlreadyExistsFault' });
    expect((await groupIds(f)).filter((id) => id === found.standbyId)).toHaveLength(1);
  });

  test('a retried cutover step reports no old target rather than the standby itself', async () => {
    process.env.AWS_REGION = B;
    const name = `retried.${ZONE}.`;
    const cutover = (target: string) => restoreSteps.handler({
      step: 'cutover', hostedZoneId: zoneId, recordName: name, ttlSeconds: 30, target, comment: 'test',
    }) as Promise<CutoverOutput>;
    expect(await cutover('old.example.com')).toMatchObject({ oldTarget: null, newTarget: 'old.example.com' });
    expect(await cutover('standby.example.com')).toMatchObject({ oldTarget: 'old.example.com', newTarget: 'standby.example.com' });
    // The same step again (its first answer lost): the record already points at the standby.
    expect(await cutover('standby.example.com')).toMatchObject({ oldTarget: null, newTarget: 'standby.example.com' });
  });

  test('a named export that is incomplete: ExportNotUsable', async () => {
    const run = await restoreRun(f, { mode: 'failover', runName: 'orders-x-20200101-000000' });
    expectOneFailure(run, 'ExportNotUsable');
    expect(run.cause).toContain('its manifest is not in the replica bucket');
  });
});

describe('the check and the cutover refuse (cluster mode disabled)', () => {
  let f: Fixture;
  let zoneId: string;
  beforeAll(async () => {
    f = await start(false, 400);
    zoneId = f.recovery.refs.get(logicalIdOf(f.recovery.template, 'AWS::Route53::HostedZone', 'Zone'))!;
    expect((await exportRun(f)).status).toBe('SUCCEEDED');
  });
  afterAll(async () => f?.close());

  test('the standby lacks the data its manifest names: StandbyCheckFailed, DNS untouched', async () => {
    const c = s3B(f);
    const bucket = bucketOf(f.recovery, 'Replica');
    try {
      const key = ((await c.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).find((k) => k.endsWith('.manifest.json'))!;
      const manifest = await readManifest(c, bucket, key);
      // A manifest that promises more keys than the RDB holds (the check compares with the manifest).
      const lying = { ...manifest, keyCount: manifest.keyCount! + 100, shards: [{ ...manifest.shards[0], keys: manifest.shards[0].keys! + 100 }] };
      await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(lying) }));
    } finally {
      c.destroy();
    }
    const run = await restoreRun(f, { mode: 'failover' });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('StandbyCheckFailed');
    expect(run.cause).toContain(`holds ${f.keys} keys`);
    expect(run.notifications).toHaveLength(1);
    const r = r53(f);
    try {
      const sets = await r.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
      expect((sets.ResourceRecordSets ?? []).filter((s) => s.Type === 'CNAME')).toEqual([]);
    } finally {
      r.destroy();
    }
  });

  test('a failover while the name already points at one of this workflow\'s standbys is refused before anything is created; "force" is checked', async () => {
    const r = r53(f);
    const serving = 'master.orders-standby-261122-040000.abcdef.usw2.cache.amazonaws.com';
    try {
      await r.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: NAME, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: serving }] } }] },
      }));
      await f.provider.clock.advance(2 * 60_000);
      const before = await groupIds(f);
      const run = await restoreRun(f, { mode: 'failover' });
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('StandbyAlreadyServing');
      expect(run.cause).toContain(`already points at ${serving}`);
      expect(run.notifications).toHaveLength(1);
      expect(await groupIds(f)).toEqual(before);
      const bad = await restoreRun(f, { mode: 'failover', force: 'yes' });
      expect(bad.error).toBe('InvalidInput');
      expect(bad.cause).toContain('force is "yes"');
      const sets = await r.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
      expect((sets.ResourceRecordSets ?? []).filter((s) => s.Type === 'CNAME').map((s) => s.ResourceRecords?.[0]?.Value)).toEqual([serving]);
      // The name is given back for the next test.
      await r.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: { Name: NAME, Type: 'CNAME', TTL: 60, ResourceRecords: [{ Value: serving }] } }] },
      }));
    } finally {
      r.destroy();
    }
  });

  test('Route 53 rejects the change (a TXT record holds the name): the run fails, the existing record is unchanged', async () => {
    // Restore a good manifest first: re-export.
    await f.provider.clock.advance(60 * 60_000);
    expect((await exportRun(f)).status).toBe('SUCCEEDED');
    const r = r53(f);
    try {
      // A CNAME cannot share its name with another record: Route 53 answers InvalidChangeBatch.
      await r.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: { Name: NAME, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"owned elsewhere"' }] } }] },
      }));
      const run = await restoreRun(f, { mode: 'failover' });
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('InvalidChangeBatch');
      expect(run.notifications).toHaveLength(1);
      const sets = await r.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
      expect((sets.ResourceRecordSets ?? []).filter((s) => s.Name === `${NAME}.`).map((s) => s.Type)).toEqual(['TXT']);
    } finally {
      r.destroy();
    }
  });
});

describe('a source whose clients authenticate (cluster mode disabled)', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await start(false, 100, true);
  });
  afterAll(async () => f?.close());

  test('a standby without an AUTH token is not created: StandbyAuthMismatch, one notification, DNS untouched', async () => {
    expect((await exportRun(f)).status).toBe('SUCCEEDED');
    const before = await groupIds(f);
    const run = await restoreRun(f, { mode: 'failover' });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('StandbyAuthMismatch');
    expect(run.cause).toContain('whose clients authenticate with an AUTH token, but this StandbyRestore gives its standby none');
    expect(run.notifications).toHaveLength(1);
    expect(await groupIds(f)).toEqual(before);
    expect(f.provider.route53.resolve(NAME, 'CNAME')).toEqual([]);
  });
});
