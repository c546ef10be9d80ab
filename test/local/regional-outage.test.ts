/**
 * A regional outage (issue 11, the DR drill): `provider.regionalOutage(region)` makes the region's
 * ElastiCache and S3 fail fast for real SDK clients (HTTP 503 ServiceUnavailable), kills its
 * redis-server nodes (SIGKILL), stops its clock work, drops S3 replication from it and holds
 * replication to it; Route 53 and the other region keep working. `endRegionalOutage` brings it back.
 */
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand,
  ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { CreateHostedZoneCommand, ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketAclCommand, PutBucketOwnershipControlsCommand,
  PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { ELASTICACHE_CANONICAL_ID } from '../../local/elasticache/facts';
import { redisProcessesIn } from '../../local/orphans';
import { LocalProvider } from '../../local/provider';
import { groupAvailable, snapshotAvailable } from '../../local/waiters';

jest.setTimeout(120_000);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DOWN = 'eu-west-1';
const UP = 'us-west-2';
const credentials = { accessKeyId: 'a', secretAccessKey: 's' };

let provider: LocalProvider;
const ec = new Map<string, ElastiCacheClient>();
const s3 = new Map<string, S3Client>();
let route53: Route53Client;
const redisClients: Redis[] = [];

function elasticache(region: string): ElastiCacheClient {
  if (!ec.has(region)) ec.set(region, new ElastiCacheClient({ region, endpoint: provider.endpoint, credentials }));
  return ec.get(region)!;
}

function bucketsIn(region: string): S3Client {
  if (!s3.has(region)) s3.set(region, new S3Client({ region, endpoint: provider.endpoint, forcePathStyle: true, credentials }));
  return s3.get(region)!;
}

/** The error a call fails with, and how long (real ms) it took to fail. */
async function failure(call: () => Promise<unknown>): Promise<{ error: Error & { $metadata?: { httpStatusCode?: number } }; ms: number }> {
  const start = Date.now();
  try {
    await call();
  } catch (e) {
    return { error: e as Error, ms: Date.now() - start };
  }
  throw new Error('expected the call to fail');
}

async function replicated(bucket: string, key: string): Promise<boolean> {
  try {
    await bucketsIn(UP).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as Error).name === 'NotFound') return false;
    throw e;
  }
}

async function createBucket(region: string, name: string): Promise<void> {
  await bucketsIn(region).send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }));
  await bucketsIn(region).send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
}

async function replicate(region: string, from: string, to: string): Promise<void> {
  await bucketsIn(region).send(new PutBucketReplicationCommand({
    Bucket: from,
    ReplicationConfiguration: {
      Role: 'arn:aws:iam::000000000000:role/replication',
      Rules: [{ ID: 'all', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, Destination: { Bucket: `arn:aws:s3:::${to}` }, DeleteMarkerReplication: { Status: 'Disabled' } }],
    },
  }));
}

/** A group with daily automatic snapshots at 16:00 UTC. */
async function createGroup(region: string, id: string): Promise<void> {
  await elasticache(region).send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id,
    ReplicationGroupDescription: id,
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
    SnapshotRetentionLimit: 1,
    SnapshotWindow: '16:00-17:00',
  }));
}

/** The PIDs of a region's redis-server nodes, as the engine started them. */
async function nodePids(region: string): Promise<number[]> {
  const members = await provider.elasticache(region).describeCacheClusters();
  return members.map(({ member }) => member.server?.pid).filter((p): p is number => p !== undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

let downPids: number[];

beforeAll(async () => {
  provider = await LocalProvider.start({
    speed: 600,
    startTime: Date.UTC(2026, 10, 20, 8, 0),
    replicationDelay: 15 * MINUTE,
    // An export an hour long (6 real seconds), so that it is still under way when the region goes.
    timings: { exportSnapshot: HOUR },
  });
  route53 = new Route53Client({ region: 'us-east-1', endpoint: provider.endpoint, credentials });
  await Promise.all([createGroup(DOWN, 'primary-cache'), createGroup(UP, 'standby-cache')]);
  await Promise.all([groupAvailable(elasticache(DOWN), 'primary-cache'), groupAvailable(elasticache(UP), 'standby-cache')]);
  // Exports replicate from the region that goes down; a bucket in the other region replicates into it.
  await createBucket(DOWN, 'exports-primary');
  await createBucket(UP, 'exports-replica');
  await replicate(DOWN, 'exports-primary', 'exports-replica');
  await createBucket(UP, 'inbound-source');
  await createBucket(DOWN, 'inbound-dest');
  await replicate(UP, 'inbound-source', 'inbound-dest');
  await bucketsIn(DOWN).send(new PutObjectCommand({ Bucket: 'exports-primary', Key: 'early.rdb', Body: 'replicated before the outage' }));
  await provider.clock.advance(20 * MINUTE);
  expect(await replicated('exports-replica', 'early.rdb')).toBe(true);
  // An export under way when the power goes (an hour long), from a snapshot taken first.
  await bucketsIn(DOWN).send(new CreateBucketCommand({ Bucket: 'rdb-exports', CreateBucketConfiguration: { LocationConstraint: DOWN } }));
  await bucketsIn(DOWN).send(new PutBucketOwnershipControlsCommand({ Bucket: 'rdb-exports', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
  const grant = `id="${ELASTICACHE_CANONICAL_ID}"`;
  await bucketsIn(DOWN).send(new PutBucketAclCommand({ Bucket: 'rdb-exports', GrantRead: grant, GrantWrite: grant, GrantReadACP: grant, GrantWriteACP: grant }));
  // The first snapshot takes its usual time; the second an hour more (6 real seconds), so it is still being taken.
  provider.elasticache(DOWN).faults.snapshotDelays.push(0, HOUR);
  await elasticache(DOWN).send(new CreateSnapshotCommand({ ReplicationGroupId: 'primary-cache', SnapshotName: 'to-export' }));
  await snapshotAvailable(elasticache(DOWN), 'to-export');
  await groupAvailable(elasticache(DOWN), 'primary-cache');
  await elasticache(DOWN).send(new CopySnapshotCommand({ SourceSnapshotName: 'to-export', TargetSnapshotName: 'exported', TargetBucket: 'rdb-exports' }));
  // A snapshot being taken when the power goes.
  await elasticache(DOWN).send(new CreateSnapshotCommand({ ReplicationGroupId: 'primary-cache', SnapshotName: 'in-flight' }));
  downPids = await nodePids(DOWN);
  expect(downPids).toHaveLength(2);
  expect(downPids.every(alive)).toBe(true);
  // Just before the outage: not yet replicated when the region goes (replication takes 1.5 real seconds).
  await bucketsIn(DOWN).send(new PutObjectCommand({ Bucket: 'exports-primary', Key: 'late.rdb', Body: 'put just before the outage' }));
  await bucketsIn(UP).send(new PutObjectCommand({ Bucket: 'inbound-source', Key: 'held.rdb', Body: 'for the region that is down' }));
  await provider.regionalOutage(DOWN);
});

afterAll(async () => {
  for (const r of redisClients) r.disconnect();
  for (const c of [...ec.values(), ...s3.values()]) c.destroy();
  route53?.destroy();
  const dataDir = provider?.dataDir;
  await provider?.stop();
  if (dataDir) expect(redisProcessesIn(dataDir)).toEqual([]);
});

describe('during the outage', () => {
  test('the region\'s nodes are dead (SIGKILL: no replacement is started)', async () => {
    expect(downPids.filter(alive)).toEqual([]);
    // None replaced: the engine does nothing in the region meanwhile.
    await provider.clock.advance(30 * MINUTE);
    expect(await nodePids(DOWN)).toEqual(downPids);
    expect(redisProcessesIn(provider.dataDir).filter((pid) => downPids.includes(pid))).toEqual([]);
    const snapshot = (await provider.elasticache(DOWN).describeSnapshots({ name: 'in-flight' }))[0];
    expect(snapshot.status).toBe('failed');
  });

  test('ElastiCache in the region fails fast with 503 ServiceUnavailable; the other region answers', async () => {
    const { error, ms } = await failure(() => elasticache(DOWN).send(new DescribeReplicationGroupsCommand({})));
    expect(error.name).toBe('ServiceUnavailable');
    expect(error.$metadata?.httpStatusCode).toBe(503);
    // The SDK retries a 503 (three attempts with backoff) and gives up: seconds, not a hang.
    expect(ms).toBeLessThan(10_000);
    const other = await elasticache(UP).send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'standby-cache' }));
    expect(other.ReplicationGroups![0].Status).toBe('available');
  });

  test('S3 in the region fails fast, uploads included; the other region\'s buckets work', async () => {
    const list = await failure(() => bucketsIn(DOWN).send(new ListObjectsV2Command({ Bucket: 'exports-primary' })));
    expect(list.error.name).toBe('ServiceUnavailable');
    expect(list.error.$metadata?.httpStatusCode).toBe(503);
    expect(list.ms).toBeLessThan(10_000);
    const put = await failure(() => bucketsIn(DOWN).send(new PutObjectCommand({ Bucket: 'exports-primary', Key: 'during.rdb', Body: Buffer.alloc(256 * 1024, 1) })));
    expect(put.error.name).toBe('ServiceUnavailable');
    expect(put.ms).toBeLessThan(10_000);
    await bucketsIn(UP).send(new PutObjectCommand({ Bucket: 'exports-replica', Key: 'written-in-the-other-region', Body: 'ok' }));
    const got = await bucketsIn(UP).send(new GetObjectCommand({ Bucket: 'exports-replica', Key: 'early.rdb' }));
    expect(await got.Body!.transformToString()).toBe('replicated before the outage');
  });

  test('replication from the region stops (the late object is never delivered); replication to it is held', async () => {
    await provider.clock.advance(2 * HOUR);
    expect(await replicated('exports-replica', 'late.rdb')).toBe(false);
    const held = await bucketsIn(UP).send(new HeadObjectCommand({ Bucket: 'inbound-source', Key: 'held.rdb' }));
    expect(held.ReplicationStatus).toBe('PENDING');
  });

  test('no automatic snapshot is taken in the region; the other region takes its own', async () => {
    // From about 11:00 to past 16:00, the window of both groups.
    await provider.clock.advance(8 * HOUR);
    const inDown = await provider.elasticache(DOWN).describeSnapshots({ groupId: 'primary-cache', source: 'system' });
    expect(inDown).toEqual([]);
    const inUp = await provider.elasticache(UP).describeSnapshots({ groupId: 'standby-cache', source: 'system' });
    expect(inUp.map((s) => s.status)).toEqual(['available']);
  });

  test('the other region\'s group serves data, and Route 53 (global) answers', async () => {
    const group = (await elasticache(UP).send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'standby-cache' }))).ReplicationGroups![0];
    const primary = group.NodeGroups![0].PrimaryEndpoint!;
    const r = new Redis({ host: primary.Address!, port: primary.Port!, maxRetriesPerRequest: 2 });
    r.on('error', () => undefined);
    redisClients.push(r);
    await r.set('k', 'v');
    expect(await r.get('k')).toBe('v');
    await route53.send(new CreateHostedZoneCommand({ Name: 'outage.example.com', CallerReference: 'outage' }));
    const zones = await route53.send(new ListHostedZonesCommand({}));
    expect(zones.HostedZones!.map((z) => z.Name)).toContain('outage.example.com.');
  });

  test('a bad region name is refused with the rule; a second declaration changes nothing', async () => {
    await expect(provider.regionalOutage('EU_WEST_1')).rejects.toThrow("region 'EU_WEST_1' is not an AWS region name");
    await provider.regionalOutage(DOWN);
    expect(provider.inOutage(DOWN)).toBe(true);
    expect(provider.inOutage(UP)).toBe(false);
  });
});

describe('after the outage', () => {
  beforeAll(async () => {
    await provider.endRegionalOutage(DOWN);
  });

  test('held replication is delivered; what the region had not replicated stays undelivered (FAILED)', async () => {
    await provider.clock.advance(10 * MINUTE);
    const held = await bucketsIn(UP).send(new HeadObjectCommand({ Bucket: 'inbound-source', Key: 'held.rdb' }));
    expect(held.ReplicationStatus).toBe('COMPLETED');
    const late = await bucketsIn(DOWN).send(new HeadObjectCommand({ Bucket: 'exports-primary', Key: 'late.rdb' }));
    expect(late.ReplicationStatus).toBe('FAILED');
    expect(await replicated('exports-replica', 'late.rdb')).toBe(false);
  });

  test('the export under way never wrote its objects; its source snapshot is intact', async () => {
    await provider.clock.advance(2 * HOUR);
    const source = (await elasticache(DOWN).send(new DescribeSnapshotsCommand({ SnapshotName: 'to-export' }))).Snapshots![0];
    expect(source.SnapshotStatus).toBe('available');
    const listed = await bucketsIn(DOWN).send(new ListObjectsV2Command({ Bucket: 'rdb-exports' }));
    expect(listed.KeyCount).toBe(0);
  });

  test('the region\'s group recovers with new nodes', async () => {
    const group = await groupAvailable(elasticache(DOWN), 'primary-cache');
    expect(group.NodeGroups![0].NodeGroupMembers!.every((m) => m.ReadEndpoint?.Address !== undefined)).toBe(true);
    const pids = await nodePids(DOWN);
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);
    expect(pids.some((pid) => downPids.includes(pid))).toBe(false);
  });
});
