/**
 * The local provider's timings grow with the data: a snapshot, an export to S3, S3 replication to
 * another region and a group seeded from the data (from the snapshot or from the exported RDB)
 * take a base time plus a time per GiB, measured here on the provider's simulated clock, moved in
 * steps by the test. Two datasets, about 4 MiB and 16 MiB of incompressible values: the part above
 * the base must match the RDB sizes, and so grow about four times.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand, ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import Redis from 'ioredis';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(180_000);

const MINUTE = 60_000;
const GIB = 1024 ** 3;
const REGION = 'af-south-1';
const DEST_REGION = 'eu-west-1';
const BUCKET = 'timings-exports';
const REPLICA = 'timings-replica';
// Large rates, so that a few MiB take minutes and one step of the clock is small beside them.
const TIMINGS = {
  createGroup: 3 * MINUTE,
  snapshot: 2 * MINUTE,
  snapshotPerGiB: 600 * MINUTE,
  exportSnapshot: 4 * MINUTE,
  exportPerGiB: 300 * MINUTE,
  restorePerGiB: 900 * MINUTE,
};
const REPLICATION = { delay: MINUTE, perGiB: 450 * MINUTE };
/** Simulated ms the clock moves between two looks. */
const STEP = 5_000;

let provider: LocalProvider;
let ec: ElastiCacheClient;

beforeAll(async () => {
  // One simulated ms per real ms: real time adds next to nothing; the test moves the clock.
  provider = await LocalProvider.start({
    speed: 1, timings: TIMINGS, replicationDelay: REPLICATION.delay, replicationPerGiB: REPLICATION.perGiB,
  });
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  const exports = provider.s3.createBucket(BUCKET, REGION);
  // af-south-1 is an opt-in region: ElastiCache writes and reads through the bucket policy.
  exports.policy = JSON.stringify({
    Statement: [{ Effect: 'Allow', Principal: { Service: `${REGION}.elasticache-snapshot.amazonaws.com` }, Action: 's3:*', Resource: '*' }],
  });
  const replica = provider.s3.createBucket(REPLICA, DEST_REGION);
  provider.s3.setVersioning(exports, 'Enabled');
  provider.s3.setVersioning(replica, 'Enabled');
  provider.s3.setReplication(exports, {
    role: 'arn:aws:iam::000000000000:role/replication',
    rules: [{ id: 'all', status: 'Enabled', priority: 1, prefix: '', destination: REPLICA }],
  });
});

afterAll(async () => {
  ec?.destroy();
  await provider?.stop();
});

/** Moves the clock in steps until `done` holds; returns the simulated ms it took. */
async function simulated(what: string, done: () => Promise<boolean>): Promise<number> {
  const start = provider.clock.now();
  for (let steps = 0; !(await done()); steps++) {
    if (steps > 2_000) throw new Error(`${what}: not done after ${steps} steps`);
    await provider.clock.advance(STEP);
  }
  return provider.clock.now() - start;
}

const groupStatus = async (id: string) => (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
const snapshotStatus = async (name: string) => (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots![0].SnapshotStatus;

async function available(id: string): Promise<number> {
  return simulated(`${id} available`, async () => {
    const status = (await groupStatus(id)).Status;
    if (status === 'create-failed' || status === 'restore-failed') throw new Error(`${id} ended ${status}`);
    return status === 'available';
  });
}

interface Measured {
  readonly rdbBytes: number;
  readonly snapshot: number;
  readonly export: number;
  readonly replication: number;
  readonly seededFromS3: number;
  readonly seededFromSnapshot: number;
}

/** A group holding `mib` values of 1 MiB each, then each operation, timed on the simulated clock. */
async function measure(id: string, mib: number): Promise<Measured> {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1,
  }));
  // An empty group takes the base time only.
  const created = await available(id);
  expect(created).toBeGreaterThanOrEqual(TIMINGS.createGroup);
  expect(created).toBeLessThan(TIMINGS.createGroup + 2 * STEP);
  const endpoint = (await groupStatus(id)).NodeGroups![0].PrimaryEndpoint!;
  const redis = new Redis({ host: endpoint.Address!, port: endpoint.Port!, maxRetriesPerRequest: 2 });
  try {
    const pipeline = redis.pipeline();
    for (let i = 0; i < mib; i++) pipeline.set(`value:${i}`, randomBytes(1024 * 1024));
    await pipeline.exec();
  } finally {
    redis.disconnect();
  }

  const name = `${id}-snap`;
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: id, SnapshotName: name }));
  const snapshot = await simulated(`${name} available`, async () => (await snapshotStatus(name)) === 'available');
  const rdbBytes = fs.statSync(provider.elasticache(REGION).snapshotFiles(name)[0]).size;

  const key = `${id}-export-0001.rdb`;
  await ec.send(new CopySnapshotCommand({ SourceSnapshotName: name, TargetSnapshotName: `${id}-export`, TargetBucket: BUCKET }));
  // Done when the source is available again and the object is in the bucket.
  const exported = await simulated(`${key} exported`, async () => (await snapshotStatus(name)) === 'available'
    && provider.s3.bucket(BUCKET).objects.has(key));
  expect(provider.s3.bucket(BUCKET).objects.get(key)!.size).toBe(rdbBytes);

  // Replication starts when the export writes the object (the last step above).
  const replication = await simulated(`${key} replicated`, async () => provider.s3.bucket(REPLICA).objects.has(key));
  expect(provider.s3.bucket(BUCKET).objects.get(key)!.replicationStatus).toBe('COMPLETED');

  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: `${id}-s3`,
    ReplicationGroupDescription: id,
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 1,
    SnapshotArns: [`arn:aws:s3:::${BUCKET}/${key}`],
  }));
  const seededFromS3 = await available(`${id}-s3`);
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: `${id}-snap`,
    ReplicationGroupDescription: id,
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 1,
    SnapshotName: name,
  }));
  const seededFromSnapshot = await available(`${id}-snap`);
  // The seeded groups hold the data.
  for (const restored of [`${id}-s3`, `${id}-snap`]) {
    const e = (await groupStatus(restored)).NodeGroups![0].PrimaryEndpoint!;
    const check = new Redis({ host: e.Address!, port: e.Port!, maxRetriesPerRequest: 2 });
    try {
      expect(await check.dbsize()).toBe(mib);
    } finally {
      check.disconnect();
    }
  }
  return { rdbBytes, snapshot, export: exported, replication, seededFromS3, seededFromSnapshot };
}

/** `base` plus `perGiB` for `bytes`, as measured in steps: at least that, and less than two steps more. */
function expectTime(measured: number, base: number, perGiB: number, bytes: number): void {
  const expected = base + (bytes / GIB) * perGiB;
  expect(measured).toBeGreaterThanOrEqual(expected - 1);
  expect(measured).toBeLessThan(expected + 2 * STEP);
}

describe('timings that grow with the data', () => {
  let small: Measured;
  let large: Measured;
  beforeAll(async () => {
    small = await measure('small', 4);
    large = await measure('large', 16);
  });

  test('the RDB files are about 4 and 16 MiB (the values do not compress)', () => {
    expect(small.rdbBytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(large.rdbBytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(large.rdbBytes / small.rdbBytes).toBeCloseTo(4, 1);
  });

  test.each([
    ['snapshot', 'snapshot', TIMINGS.snapshot, TIMINGS.snapshotPerGiB],
    ['export (CopySnapshot to S3)', 'export', TIMINGS.exportSnapshot, TIMINGS.exportPerGiB],
    ['S3 replication to another region', 'replication', REPLICATION.delay, REPLICATION.perGiB],
    ['group seeded from the exported RDB (SnapshotArns)', 'seededFromS3', TIMINGS.createGroup, TIMINGS.restorePerGiB],
    ['group seeded from the snapshot (SnapshotName)', 'seededFromSnapshot', TIMINGS.createGroup, TIMINGS.restorePerGiB],
  ] as const)('%s: base + per GiB of the data, so the bigger dataset takes proportionally longer', (_name, field, base, perGiB) => {
    expectTime(small[field], base, perGiB, small.rdbBytes);
    expectTime(large[field], base, perGiB, large.rdbBytes);
    // The part above the base grows with the data: about four times (within a step of the clock).
    const ratio = (large[field] - base) / (small[field] - base);
    expect(ratio).toBeGreaterThan(3.3);
    expect(ratio).toBeLessThan(4.7);
  });
});
