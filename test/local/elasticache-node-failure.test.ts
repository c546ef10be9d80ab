/**
 * A node that fails is replaced, as ElastiCache does (issue 13, "a killed node still shows
 * `available` with a dead endpoint"): a failed primary with automatic failover fails over to a
 * replica and comes back as a replica; without automatic failover it comes back synced from a
 * replica; a failed replica comes back synced from the primary; a node with no replica comes
 * back empty. Meanwhile the group is `modifying` and the replaced node has no endpoint.
 */
import * as dns from 'dns';
import {
  CacheCluster, CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeCacheClustersCommand, DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand, ElastiCacheClient, InvalidReplicationGroupStateFault, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import Redis, { Cluster } from 'ioredis';
import { redisProcessesIn } from '../../local/orphans';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { groupAvailable } from '../../local/waiters';

/** A name's address, as this process resolves it (through the provider's DNS server). */
function lookup(name: string): Promise<string> {
  return new Promise((resolve, reject) => dns.lookup(name, (e, address) => (e ? reject(e) : resolve(address))));
}

jest.setTimeout(120_000);

const REGION = 'eu-west-3';
const MINUTE = 60_000;
let provider: LocalProvider;
let ec: ElastiCacheClient;
const clients: Redis[] = [];

beforeAll(async () => {
  // Ten simulated minutes to a real second: a failover (2 min) is 0.2 s, a replacement (5 min) 0.5 s.
  provider = await LocalProvider.start({ speed: 600, startTime: Date.UTC(2026, 10, 20, 12, 0) });
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
});

afterAll(async () => {
  for (const r of clients) r.disconnect();
  ec?.destroy();
  const dataDir = provider?.dataDir;
  await provider?.stop();
  // Replacement nodes go with the provider like the others.
  if (dataDir) expect(redisProcessesIn(dataDir)).toEqual([]);
});

function redis(address: { Address?: string; Port?: number } | undefined): Redis {
  const r = new Redis({ host: address!.Address!, port: address!.Port!, maxRetriesPerRequest: 2 });
  r.on('error', () => undefined);
  clients.push(r);
  return r;
}

async function group(id: string): Promise<ReplicationGroup> {
  return (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
}

async function member(id: string): Promise<CacheCluster> {
  return (await ec.send(new DescribeCacheClustersCommand({ CacheClusterId: id, ShowCacheNodeInfo: true }))).CacheClusters![0];
}

async function create(id: string, nodes: number, automaticFailover: boolean): Promise<ReplicationGroup> {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id,
    ReplicationGroupDescription: id,
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: nodes,
    AutomaticFailoverEnabled: automaticFailover,
  }));
  return groupAvailable(ec, id);
}

/** The members of the group's node group as [id, role, has an endpoint]. */
function roles(g: ReplicationGroup): Array<[string, string, boolean]> {
  return g.NodeGroups![0].NodeGroupMembers!.map((m) => [m.CacheClusterId!, m.CurrentRole!, m.ReadEndpoint !== undefined]);
}

/** What a member looks like while its node is replaced: the group's status, node `creating`, no endpoint. */
async function expectReplacing(id: string): Promise<void> {
  const m = await member(id);
  expect([m.CacheClusterStatus, m.CacheNodes![0].CacheNodeStatus, m.CacheNodes![0].Endpoint]).toEqual(['modifying', 'creating', undefined]);
}

test('a killed primary with automatic failover: a replica takes over with the data, the failed node comes back as a replica in sync', async () => {
  const before = await create('fo', 2, true);
  const oldMember = before.NodeGroups![0].NodeGroupMembers!.find((m) => m.CacheClusterId === 'fo-001')!.ReadEndpoint!;
  const oldAddress = await lookup(oldMember.Address!);
  const primary = redis(before.NodeGroups![0].PrimaryEndpoint);
  await primary.mset('a', '1', 'b', '2');
  expect(await primary.wait(1, 5_000)).toBe(1);
  await provider.elasticache(REGION).killNode('fo-001');
  // The failure is seen at once: the group is modifying, the failed node has no endpoint.
  const during = await group('fo');
  expect(during.Status).toBe('modifying');
  expect(during.NodeGroups![0].NodeGroupMembers!.find((m) => m.CacheClusterId === 'fo-001')!.ReadEndpoint).toBeUndefined();
  await expectReplacing('fo-001');
  await expect(ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'fo', SnapshotName: 'during-replacement' })))
    .rejects.toBeInstanceOf(InvalidReplicationGroupStateFault);
  // The primary endpoint follows the promoted replica, which has what was written before.
  const promoted = await until('fo-002 promoted', async () => {
    const g = await group('fo');
    return g.NodeGroups![0].NodeGroupMembers![0].CurrentRole === 'primary' && g.NodeGroups![0].NodeGroupMembers![0].CacheClusterId === 'fo-002'
      && g.NodeGroups![0].PrimaryEndpoint ? g : undefined;
  });
  const newPrimary = redis(promoted.NodeGroups![0].PrimaryEndpoint);
  expect(await newPrimary.mget('a', 'b')).toEqual(['1', '2']);
  await newPrimary.set('c', '3');
  const after = await groupAvailable(ec, 'fo');
  expect(roles(after)).toEqual([['fo-002', 'primary', true], ['fo-001', 'replica', true]]);
  const replaced = after.NodeGroups![0].NodeGroupMembers![1].ReadEndpoint!;
  // The node keeps its endpoint name and the group's port; its name now answers the replacement's own address.
  expect(replaced).toEqual(oldMember);
  expect(await lookup(replaced.Address!)).not.toBe(oldAddress);
  expect((await member('fo-001')).CacheNodes![0]).toMatchObject({ CacheNodeStatus: 'available', Endpoint: replaced });
  // The replacement replicates the new primary: it has the old data and what is written now.
  await newPrimary.set('d', '4');
  expect(await newPrimary.wait(1, 5_000)).toBe(1);
  const replica = redis(replaced);
  expect(await replica.mget('a', 'b', 'c', 'd')).toEqual(['1', '2', '3', '4']);
  expect(await replica.info('replication')).toMatch(/role:slave[\s\S]*master_link_status:up/);
});

test('a killed replica is replaced and resynced from the primary, which keeps serving', async () => {
  const before = await create('rk', 3, false);
  const primary = redis(before.NodeGroups![0].PrimaryEndpoint);
  await primary.set('k', 'v');
  await provider.elasticache(REGION).killNode('rk-003');
  const during = await group('rk');
  expect(during.Status).toBe('modifying');
  expect(roles(during)).toEqual([['rk-001', 'primary', true], ['rk-002', 'replica', true], ['rk-003', 'replica', false]]);
  await expectReplacing('rk-003');
  // No failover: the primary and its endpoint stay, and take writes meanwhile.
  expect(during.NodeGroups![0].PrimaryEndpoint).toEqual(before.NodeGroups![0].PrimaryEndpoint);
  await primary.set('during', 'replacement');
  const after = await groupAvailable(ec, 'rk');
  expect(roles(after)).toEqual([['rk-001', 'primary', true], ['rk-002', 'replica', true], ['rk-003', 'replica', true]]);
  await primary.set('after', 'yes');
  expect(await primary.wait(2, 5_000)).toBe(2);
  expect(await redis(after.NodeGroups![0].NodeGroupMembers![2].ReadEndpoint).mget('k', 'during', 'after')).toEqual(['v', 'replacement', 'yes']);
});

test('a killed primary without automatic failover: no primary endpoint until a new primary is synced from a replica', async () => {
  const before = await create('nf', 2, false);
  const primary = redis(before.NodeGroups![0].PrimaryEndpoint);
  await primary.set('kept', 'yes');
  expect(await primary.wait(1, 5_000)).toBe(1);
  await provider.elasticache(REGION).killNode('nf-001');
  const during = await group('nf');
  expect(during.Status).toBe('modifying');
  // Nothing to write to meanwhile; the replica still serves reads.
  expect(during.NodeGroups![0].PrimaryEndpoint).toBeUndefined();
  expect(roles(during)).toEqual([['nf-001', 'primary', false], ['nf-002', 'replica', true]]);
  expect(await redis(during.NodeGroups![0].NodeGroupMembers![1].ReadEndpoint).get('kept')).toBe('yes');
  await expectReplacing('nf-001');
  const after = await groupAvailable(ec, 'nf');
  expect(roles(after)).toEqual([['nf-001', 'primary', true], ['nf-002', 'replica', true]]);
  const newPrimary = redis(after.NodeGroups![0].PrimaryEndpoint);
  expect(await newPrimary.get('kept')).toBe('yes');
  await newPrimary.set('new', 'write');
  expect(await newPrimary.wait(1, 5_000)).toBe(1);
  expect(await redis(after.NodeGroups![0].NodeGroupMembers![1].ReadEndpoint).get('new')).toBe('write');
});

test('a killed single-node group is replaced empty: its data is lost', async () => {
  const before = await create('solo', 1, false);
  await redis(before.NodeGroups![0].PrimaryEndpoint).set('gone', 'soon');
  await provider.elasticache(REGION).killNode('solo-001');
  const during = await group('solo');
  expect([during.Status, during.NodeGroups![0].PrimaryEndpoint]).toEqual(['modifying', undefined]);
  await expectReplacing('solo-001');
  const after = await groupAvailable(ec, 'solo');
  const primary = redis(after.NodeGroups![0].PrimaryEndpoint);
  expect(await primary.dbsize()).toBe(0);
  await primary.set('fresh', 'start');
  expect((await member('solo-001')).CacheNodes![0].CacheNodeStatus).toBe('available');
});

test('a snapshot being taken from a node that is killed fails at once; the group recovers', async () => {
  await create('snapfail', 2, false);
  const engine = provider.elasticache(REGION);
  engine.faults.snapshotDelays.push(60 * MINUTE);
  await ec.send(new CreateSnapshotCommand({ CacheClusterId: 'snapfail-002', SnapshotName: 'snapfail-1' }));
  await engine.killNode('snapfail-002');
  const s = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'snapfail-1' }))).Snapshots![0];
  expect(s.SnapshotStatus).toBe('failed');
  expect((await group('snapfail')).Status).toBe('modifying');
  // The replacement does not wait for the hour the snapshot would have taken.
  const started = Date.now();
  await groupAvailable(ec, 'snapfail');
  expect(Date.now() - started).toBeLessThan(5_000);
});

test('a jump of the clock waits for the replacement: afterwards the node is in service', async () => {
  await create('jump', 2, true);
  const engine = provider.elasticache(REGION);
  await engine.killNode('jump-002');
  await provider.clock.advance(10 * MINUTE);
  const g = await group('jump');
  expect(g.Status).toBe('available');
  expect(roles(g)).toEqual([['jump-001', 'primary', true], ['jump-002', 'replica', true]]);
});

test('cluster mode: a killed shard primary fails over, a killed primary of a shard without replica comes back empty, the cluster is whole again', async () => {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'shards',
    ReplicationGroupDescription: 'shards',
    CacheNodeType: 'cache.r7g.large',
    NumNodeGroups: 2,
    NodeGroupConfiguration: [{ NodeGroupId: '0001', Slots: '0-8191', ReplicaCount: 1 }, { NodeGroupId: '0002', Slots: '8192-16383', ReplicaCount: 0 }],
  }));
  const before = await groupAvailable(ec, 'shards');
  const cluster = new Cluster([{ host: before.ConfigurationEndpoint!.Address, port: before.ConfigurationEndpoint!.Port }]);
  cluster.on('error', () => undefined);
  try {
    // {a} hashes to slot 15495 (shard 0002), {b} to 3300 (shard 0001).
    await cluster.set('{a}k', 'lost');
    await cluster.set('{b}k', 'kept');
    await cluster.wait(1, 5_000).catch(() => undefined);
  } finally {
    cluster.disconnect();
  }
  await new Promise((r) => setTimeout(r, 200));
  const engine = provider.elasticache(REGION);
  await engine.killNode('shards-0001-001');
  await engine.killNode('shards-0002-001');
  expect((await group('shards')).Status).toBe('modifying');
  const after = await groupAvailable(ec, 'shards');
  expect(after.NodeGroups!.map((ng) => ng.NodeGroupMembers!.map((m) => m.CacheClusterId))).toEqual([['shards-0001-002', 'shards-0001-001'], ['shards-0002-001']]);
  const again = new Cluster([{ host: after.ConfigurationEndpoint!.Address, port: after.ConfigurationEndpoint!.Port }]);
  again.on('error', () => undefined);
  try {
    expect(await again.get('{b}k')).toBe('kept');
    expect(await again.get('{a}k')).toBeNull();
    await again.set('{a}k', 'new');
    expect(await again.get('{a}k')).toBe('new');
  } finally {
    again.disconnect();
  }
});
