/**
 * Cluster mode enabled groups on the local provider: a real Redis Cluster per group, snapshots at
 * group level with one RDB per shard, exports of one object per shard, and seeding that needs the
 * slots of every shard.
 */
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand,
  ElastiCacheClient, InvalidParameterCombinationException, InvalidParameterValueException, ModifyReplicationGroupCommand, ReplicationGroup,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, ListObjectsV2Command, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { Cluster } from 'ioredis';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(180_000);

const REGION = 'me-south-1';
const KEYS = 30_000;
const SLOTS = ['0-5460', '5461-10922', '10923-16383'];
let provider: LocalProvider;
let ec: ElastiCacheClient;
let s3: S3Client;
const clusters: Cluster[] = [];

async function status(id: string, wanted: string): Promise<ReplicationGroup> {
  return until(`${id} ${wanted}`, async () => {
    const g = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
    if (g.Status !== wanted && ['create-failed', 'restore-failed', 'available'].includes(g.Status!)) throw new Error(`${id} is ${g.Status}, not ${wanted}`);
    return g.Status === wanted ? g : undefined;
  });
}

function cluster(group: ReplicationGroup): Cluster {
  const c = new Cluster([{ host: group.ConfigurationEndpoint!.Address, port: group.ConfigurationEndpoint!.Port }]);
  clusters.push(c);
  return c;
}

async function snapshotAvailable(name: string) {
  return until(`${name} available`, async () => {
    const s = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: name, ShowNodeGroupConfig: true }))).Snapshots![0];
    return s.SnapshotStatus === 'available' ? s : undefined;
  });
}

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  const credentials = { accessKeyId: 'a', secretAccessKey: 's' };
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials });
  s3 = new S3Client({ region: REGION, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'shards', CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await s3.send(new PutBucketPolicyCommand({
    Bucket: 'shards',
    Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: `${REGION}.elasticache-snapshot.amazonaws.com` }, Action: 's3:*', Resource: '*' }] }),
  }));
});

afterAll(async () => {
  for (const c of clusters) c.disconnect();
  ec?.destroy();
  s3?.destroy();
  await provider?.stop();
});

test('a cluster mode enabled group is a real Redis Cluster with the slots of each shard', async () => {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'catalog',
    ReplicationGroupDescription: 'catalog',
    CacheNodeType: 'cache.r7g.large',
    ClusterMode: 'enabled',
    NumNodeGroups: 3,
    ReplicasPerNodeGroup: 1,
    AutomaticFailoverEnabled: true,
    SnapshotRetentionLimit: 1,
  }));
  const group = await status('catalog', 'available');
  expect(group).toMatchObject({ ClusterEnabled: true, ClusterMode: 'enabled' });
  expect(group.SnapshottingClusterId).toBeUndefined();
  expect(group.NodeGroups!.map((n) => [n.NodeGroupId, n.Slots])).toEqual([['0001', SLOTS[0]], ['0002', SLOTS[1]], ['0003', SLOTS[2]]]);
  expect(group.MemberClusters).toEqual(['catalog-0001-001', 'catalog-0001-002', 'catalog-0002-001', 'catalog-0002-002', 'catalog-0003-001', 'catalog-0003-002']);

  const c = cluster(group);
  for (let i = 0; i < KEYS; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, j) => c.set(`item:${i + j}`, `${i + j}`)));
  }
  const masters = c.nodes('master');
  expect(masters).toHaveLength(3);
  const sizes = await Promise.all(masters.map((m) => m.dbsize()));
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEYS);
  expect(Math.min(...sizes)).toBeGreaterThan(KEYS / 4);
});

test('no snapshotting cluster and no member snapshots with cluster mode enabled', async () => {
  await expect(ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'catalog', SnapshottingClusterId: 'catalog-0001-002' })))
    .rejects.toThrow('Cannot set snapshotting cluster for cluster mode enabled replication group.');
  await expect(ec.send(new CreateSnapshotCommand({ CacheClusterId: 'catalog-0001-001', SnapshotName: 'member' })))
    .rejects.toBeInstanceOf(InvalidParameterCombinationException);
});

test('a group snapshot has one RDB per shard, and exports as one object per shard', async () => {
  const c = cluster((await status('catalog', 'available')));
  for (const m of c.nodes('master')) await m.wait(1, 5000);
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'catalog', SnapshotName: 'catalog-1' }));
  const snapshot = await snapshotAvailable('catalog-1');
  expect(snapshot.NumNodeGroups).toBe(3);
  expect(snapshot.NodeSnapshots!.map((n) => [n.NodeGroupId, n.CacheClusterId, n.NodeGroupConfiguration?.Slots])).toEqual([
    ['0001', 'catalog-0001-002', SLOTS[0]], ['0002', 'catalog-0002-002', SLOTS[1]], ['0003', 'catalog-0003-002', SLOTS[2]],
  ]);
  await ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'catalog-1', TargetSnapshotName: 'catalog-1', TargetBucket: 'shards' }));
  const objects = await until('three objects', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: 'shards', Prefix: 'catalog-1-' }));
    return out.KeyCount === 3 ? out.Contents!.map((o) => o.Key) : undefined;
  });
  expect(objects).toEqual(['catalog-1-0001.rdb', 'catalog-1-0002.rdb', 'catalog-1-0003.rdb']);
});

test('seeding from the RDB objects needs the slots of every shard', async () => {
  const arns = [1, 2, 3].map((i) => `arn:aws:s3:::shards/catalog-1-000${i}.rdb`);
  const error = await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'catalog-seeded',
    ReplicationGroupDescription: 'seeded',
    CacheNodeType: 'cache.r7g.large',
    ClusterMode: 'enabled',
    NumNodeGroups: 3,
    ReplicasPerNodeGroup: 1,
    SnapshotArns: arns,
  })).catch((e) => e);
  expect(error).toBeInstanceOf(InvalidParameterValueException);
  expect(error.message).toBe('Slots must be provided when restoring from snapshot ARNs with cluster mode enabled.');

  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'catalog-seeded',
    ReplicationGroupDescription: 'seeded',
    CacheNodeType: 'cache.r7g.large',
    ClusterMode: 'enabled',
    NumNodeGroups: 3,
    ReplicasPerNodeGroup: 1,
    SnapshotArns: arns,
    NodeGroupConfiguration: SLOTS.map((Slots, i) => ({ NodeGroupId: `000${i + 1}`, Slots, ReplicaCount: 1 })),
  }));
  const c = cluster(await status('catalog-seeded', 'available'));
  const values = await Promise.all(Array.from({ length: KEYS }, (_, i) => c.get(`item:${i}`)));
  expect(values.findIndex((v, i) => v !== String(i))).toBe(-1);
});

test('seeding from the snapshot by name', async () => {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'catalog-restored',
    ReplicationGroupDescription: 'restored',
    CacheNodeType: 'cache.r7g.xlarge',
    ClusterMode: 'enabled',
    NumNodeGroups: 3,
    ReplicasPerNodeGroup: 0,
    SnapshotName: 'catalog-1',
  }));
  const c = cluster(await status('catalog-restored', 'available'));
  expect(await c.get('item:12345')).toBe('12345');
});

test('RDB files whose keys do not fit the given slots leave the group restore-failed', async () => {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'catalog-shuffled',
    ReplicationGroupDescription: 'shuffled',
    CacheNodeType: 'cache.r7g.large',
    ClusterMode: 'enabled',
    NumNodeGroups: 3,
    ReplicasPerNodeGroup: 0,
    SnapshotArns: [3, 2, 1].map((i) => `arn:aws:s3:::shards/catalog-1-000${i}.rdb`),
    NodeGroupConfiguration: SLOTS.map((Slots, i) => ({ NodeGroupId: `000${i + 1}`, Slots })),
  }));
  await status('catalog-shuffled', 'restore-failed');
});

test('TestFailover in a cluster promotes the shard replica and the cluster keeps serving', async () => {
  await ec.send(new TestFailoverCommand({ ReplicationGroupId: 'catalog', NodeGroupId: '0002' }));
  const group = await status('catalog', 'available');
  expect(group.NodeGroups![1].NodeGroupMembers!.map((m) => m.CacheClusterId)).toEqual(['catalog-0002-002', 'catalog-0002-001']);
  const c = cluster(group);
  await until('cluster serving after failover', async () => ((await c.get('item:777').catch(() => undefined)) === '777' ? true : undefined));
  await c.set('item:written-after-failover', 'yes');
  expect(await c.get('item:written-after-failover')).toBe('yes');
});
