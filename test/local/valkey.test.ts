/**
 * Valkey groups on the local provider, with real SDK clients (redis-server runs underneath: there is
 * no valkey-server on these machines). The engine is kept through every step: Describe, replication
 * to a replica, the snapshot, its export to S3 and cross-region replication, and a new group seeded
 * from the RDB as Valkey; with cluster mode disabled and enabled. A Valkey snapshot restores only
 * into Valkey, at its version or a newer one.
 */
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeCacheClustersCommand, DescribeReplicationGroupsCommand,
  ElastiCacheClient, InvalidParameterCombinationException, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import {
  CreateBucketCommand, HeadObjectCommand, PutBucketPolicyCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, S3Client,
} from '@aws-sdk/client-s3';
import Redis, { Cluster } from 'ioredis';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { groupAvailable, snapshotAvailable } from '../../local/waiters';

jest.setTimeout(240_000);

// Opt-in regions: ElastiCache reads and writes as the regional service principal (bucket policies).
const A = 'me-south-1';
const B = 'af-south-1';
const KEYS = 20_000;
const SLOTS = ['0-8191', '8192-16383'];
let provider: LocalProvider;
const closers: Array<() => void> = [];

function ec(region: string): ElastiCacheClient {
  const c = new ElastiCacheClient({ region, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  closers.push(() => c.destroy());
  return c;
}

function s3(region: string): S3Client {
  const c = new S3Client({ region, endpoint: provider.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  closers.push(() => c.destroy());
  return c;
}

function redis(address: string, port: number): Redis {
  const r = new Redis({ host: address, port });
  closers.push(() => r.disconnect());
  return r;
}

function cluster(group: ReplicationGroup): Cluster {
  const c = new Cluster([{ host: group.ConfigurationEndpoint!.Address, port: group.ConfigurationEndpoint!.Port }]);
  closers.push(() => c.disconnect());
  return c;
}

async function exported(region: string, bucket: string, key: string) {
  return until(`${bucket}/${key}`, async () => {
    try {
      return await s3(region).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      return undefined;
    }
  });
}

const policy = (bucket: string, region: string) => JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: `${region}.elasticache-snapshot.amazonaws.com` }, Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`] }],
});

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  await s3(B).send(new CreateBucketCommand({ Bucket: 'valkey-replica', CreateBucketConfiguration: { LocationConstraint: B } }));
  await s3(B).send(new PutBucketVersioningCommand({ Bucket: 'valkey-replica', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3(B).send(new PutBucketPolicyCommand({ Bucket: 'valkey-replica', Policy: policy('valkey-replica', B) }));
  await s3(A).send(new CreateBucketCommand({ Bucket: 'valkey-exports', CreateBucketConfiguration: { LocationConstraint: A } }));
  await s3(A).send(new PutBucketVersioningCommand({ Bucket: 'valkey-exports', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3(A).send(new PutBucketPolicyCommand({ Bucket: 'valkey-exports', Policy: policy('valkey-exports', A) }));
  await s3(A).send(new PutBucketReplicationCommand({
    Bucket: 'valkey-exports',
    ReplicationConfiguration: {
      Role: 'arn:aws:iam::000000000000:role/rdb-replication',
      Rules: [{ ID: 'rdb', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, Destination: { Bucket: 'arn:aws:s3:::valkey-replica' }, DeleteMarkerReplication: { Status: 'Disabled' } }],
    },
  }));
});

afterAll(async () => {
  for (const close of closers) close();
  await provider?.stop();
});

describe('cluster mode disabled', () => {
  test('a Valkey 8 group keeps engine valkey through replication, snapshot, export, replication to B and seeding', async () => {
    const a = ec(A);
    await a.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'sessions',
      ReplicationGroupDescription: 'sessions',
      CacheNodeType: 'cache.r7g.large',
      Engine: 'valkey',
      EngineVersion: '8.0',
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: false,
    }));
    const group = await groupAvailable(a, 'sessions');
    expect(group).toMatchObject({ Engine: 'valkey', MemberClusters: ['sessions-001', 'sessions-002'] });
    const members = (await a.send(new DescribeCacheClustersCommand({}))).CacheClusters!
      .filter((m) => m.ReplicationGroupId === 'sessions');
    expect(members.map((m) => [m.CacheClusterId, m.Engine, m.EngineVersion])).toEqual([['sessions-001', 'valkey', '8.0'], ['sessions-002', 'valkey', '8.0']]);

    const primary = redis(group.NodeGroups![0].PrimaryEndpoint!.Address!, group.NodeGroups![0].PrimaryEndpoint!.Port!);
    for (let i = 0; i < KEYS; i += 5000) {
      const pipeline = primary.pipeline();
      for (let j = i; j < i + 5000; j++) pipeline.set(`session:${j}`, `user-${j}`);
      await pipeline.exec();
    }
    expect(await primary.wait(1, 10_000)).toBe(1);
    const reader = group.NodeGroups![0].ReaderEndpoint!;
    expect(await redis(reader.Address!, reader.Port!).get(`session:${KEYS - 1}`)).toBe(`user-${KEYS - 1}`);

    await a.send(new CreateSnapshotCommand({ ReplicationGroupId: 'sessions', SnapshotName: 'sessions-nightly' }));
    const snapshot = await snapshotAvailable(a, 'sessions-nightly');
    expect(snapshot).toMatchObject({ Engine: 'valkey', EngineVersion: '8.0', NodeSnapshots: [expect.objectContaining({ CacheClusterId: 'sessions-002' })] });

    await a.send(new CopySnapshotCommand({ SourceSnapshotName: 'sessions-nightly', TargetSnapshotName: 'sessions-nightly', TargetBucket: 'valkey-exports' }));
    await snapshotAvailable(a, 'sessions-nightly');
    await exported(A, 'valkey-exports', 'sessions-nightly-0001.rdb');
    await provider.clock.advance(5 * 60_000);
    const replica = await s3(B).send(new HeadObjectCommand({ Bucket: 'valkey-replica', Key: 'sessions-nightly-0001.rdb' }));
    expect(replica.ReplicationStatus).toBe('REPLICA');

    const b = ec(B);
    await b.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'sessions-standby',
      ReplicationGroupDescription: 'standby',
      CacheNodeType: 'cache.r7g.large',
      Engine: 'valkey',
      EngineVersion: '8.0',
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: false,
      SnapshotArns: ['arn:aws:s3:::valkey-replica/sessions-nightly-0001.rdb'],
    }));
    const standby = await groupAvailable(b, 'sessions-standby');
    expect(standby.Engine).toBe('valkey');
    const restored = redis(standby.NodeGroups![0].PrimaryEndpoint!.Address!, standby.NodeGroups![0].PrimaryEndpoint!.Port!);
    expect(await restored.dbsize()).toBe(KEYS);
    const values = await restored.mget(Array.from({ length: KEYS }, (_, i) => `session:${i}`));
    expect(values.findIndex((v, i) => v !== `user-${i}`)).toBe(-1);
  });

  test('a Valkey snapshot restores by name as Valkey, and not into Redis OSS or an older Valkey', async () => {
    const a = ec(A);
    const base = { ReplicationGroupDescription: 'x', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1, SnapshotName: 'sessions-nightly' };
    const intoRedis = await a.send(new CreateReplicationGroupCommand({ ...base, ReplicationGroupId: 'as-redis', Engine: 'redis', EngineVersion: '7.1' })).catch((e) => e);
    expect(intoRedis).toBeInstanceOf(InvalidParameterCombinationException);
    expect(intoRedis.message).toBe('Snapshot sessions-nightly was taken from engine valkey; it can only be restored into a valkey replication group, not redis.');
    await expect(a.send(new CreateReplicationGroupCommand({ ...base, ReplicationGroupId: 'older', Engine: 'valkey', EngineVersion: '7.2' })))
      .rejects.toThrow('Snapshot sessions-nightly was taken from valkey 8.0; it cannot be restored into the older version 7.2.');

    // Engine left out: the snapshot's engine.
    await a.send(new CreateReplicationGroupCommand({ ...base, ReplicationGroupId: 'by-name', EngineVersion: '8.2' }));
    const group = await groupAvailable(a, 'by-name');
    expect(group.Engine).toBe('valkey');
    const primary = redis(group.NodeGroups![0].PrimaryEndpoint!.Address!, group.NodeGroups![0].PrimaryEndpoint!.Port!);
    expect(await primary.dbsize()).toBe(KEYS);
  });

  test('engine versions ElastiCache does not offer are refused for each engine', async () => {
    const a = ec(A);
    const base = { ReplicationGroupDescription: 'x', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1 };
    await expect(a.send(new CreateReplicationGroupCommand({ ...base, ReplicationGroupId: 'v71', Engine: 'valkey', EngineVersion: '7.1' })))
      .rejects.toThrow('Cannot find version 7.1 for valkey');
    await expect(a.send(new CreateReplicationGroupCommand({ ...base, ReplicationGroupId: 'r80', Engine: 'redis', EngineVersion: '8.0' })))
      .rejects.toThrow('Cannot find version 8.0 for redis');
    const groups = (await a.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups!.map((g) => g.ReplicationGroupId);
    expect(groups).not.toContain('v71');
    expect(groups).not.toContain('r80');
  });
});

describe('cluster mode enabled', () => {
  test('a clustered Valkey 8 group snapshots one RDB per shard as valkey and seeds a clustered Valkey group in B', async () => {
    const a = ec(A);
    await a.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'catalog',
      ReplicationGroupDescription: 'catalog',
      CacheNodeType: 'cache.r7g.large',
      Engine: 'valkey',
      EngineVersion: '8.1',
      ClusterMode: 'enabled',
      NumNodeGroups: 2,
      ReplicasPerNodeGroup: 1,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: false,
    }));
    const group = await groupAvailable(a, 'catalog');
    expect(group).toMatchObject({ Engine: 'valkey', ClusterEnabled: true });
    const c = cluster(group);
    for (let i = 0; i < KEYS; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => c.set(`item:${i + j}`, `${i + j}`)));
    }
    for (const m of c.nodes('master')) await m.wait(1, 5000);

    await a.send(new CreateSnapshotCommand({ ReplicationGroupId: 'catalog', SnapshotName: 'catalog-1' }));
    const snapshot = await snapshotAvailable(a, 'catalog-1');
    expect(snapshot).toMatchObject({ Engine: 'valkey', EngineVersion: '8.1', NumNodeGroups: 2 });
    await a.send(new CopySnapshotCommand({ SourceSnapshotName: 'catalog-1', TargetSnapshotName: 'catalog-1', TargetBucket: 'valkey-exports' }));
    await exported(A, 'valkey-exports', 'catalog-1-0002.rdb');
    await provider.clock.advance(5 * 60_000);
    await exported(B, 'valkey-replica', 'catalog-1-0002.rdb');

    const b = ec(B);
    await b.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'catalog-standby',
      ReplicationGroupDescription: 'standby',
      CacheNodeType: 'cache.r7g.large',
      Engine: 'valkey',
      EngineVersion: '8.1',
      ClusterMode: 'enabled',
      NumNodeGroups: 2,
      ReplicasPerNodeGroup: 1,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: false,
      SnapshotArns: [1, 2].map((i) => `arn:aws:s3:::valkey-replica/catalog-1-000${i}.rdb`),
      NodeGroupConfiguration: SLOTS.map((Slots, i) => ({ NodeGroupId: `000${i + 1}`, Slots, ReplicaCount: 1 })),
    }));
    const standby = await groupAvailable(b, 'catalog-standby');
    expect(standby).toMatchObject({ Engine: 'valkey', ClusterEnabled: true });
    const restored = cluster(standby);
    expect(await restored.get(`item:${KEYS - 1}`)).toBe(`${KEYS - 1}`);
    const sizes = await Promise.all(restored.nodes('master').map((m) => m.dbsize()));
    expect(sizes).toHaveLength(2);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(KEYS);
  });
});
