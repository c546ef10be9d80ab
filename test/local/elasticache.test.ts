/**
 * The local provider's ElastiCache, driven only through the real AWS SDK client over HTTP, with
 * real redis-server processes behind it.
 */
import * as fs from 'fs';
import {
  CacheClusterNotFoundFault, CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand,
  DeleteReplicationGroupCommand, DeleteSnapshotCommand, DescribeCacheClustersCommand, DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand, ElastiCacheClient, InvalidReplicationGroupStateFault, InvalidSnapshotStateFault,
  ModifyReplicationGroupCommand, ReplicationGroupAlreadyExistsFault, ReplicationGroupNotFoundFault, Snapshot,
  SnapshotAlreadyExistsFault, SnapshotFeatureNotSupportedFault, SnapshotNotFoundFault, SnapshotQuotaExceededFault,
  AddTagsToResourceCommand, ListTagsForResourceCommand, RemoveTagsFromResourceCommand, InvalidParameterCombinationException,
  TestFailoverCommand, NodeGroupNotFoundFault, TestFailoverNotAvailableFault, DeleteCacheClusterCommand,
} from '@aws-sdk/client-elasticache';
import Redis from 'ioredis';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(120_000);

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
let provider: LocalProvider;
const clients: Redis[] = [];

const sdkClients = new Map<string, ElastiCacheClient>();
function client(region = 'eu-west-1'): ElastiCacheClient {
  if (!sdkClients.has(region)) {
    sdkClients.set(region, new ElastiCacheClient({ region, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } }));
  }
  return sdkClients.get(region)!;
}

function redis(address: { Address?: string; Port?: number } | undefined): Redis {
  const r = new Redis({ host: address!.Address!, port: address!.Port!, maxRetriesPerRequest: 2 });
  clients.push(r);
  return r;
}

async function groupStatus(ec: ElastiCacheClient, id: string): Promise<string> {
  const out = await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
  return out.ReplicationGroups![0].Status!;
}

async function waitGroup(ec: ElastiCacheClient, id: string, status = 'available') {
  return until(`${id} ${status}`, async () => {
    const out = await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
    return out.ReplicationGroups![0].Status === status ? out.ReplicationGroups![0] : undefined;
  });
}

async function waitSnapshot(ec: ElastiCacheClient, name: string, status = 'available'): Promise<Snapshot> {
  return until(`${name} ${status}`, async () => {
    const out = await ec.send(new DescribeSnapshotsCommand({ SnapshotName: name, ShowNodeGroupConfig: true }));
    const s = out.Snapshots![0];
    if (s.SnapshotStatus === 'failed' && status !== 'failed') throw new Error(`snapshot ${name} failed`);
    return s.SnapshotStatus === status ? s : undefined;
  });
}

async function createGroup(ec: ElastiCacheClient, id: string, extra: Record<string, unknown> = {}) {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id,
    ReplicationGroupDescription: `test group ${id}`,
    CacheNodeType: 'cache.r7g.large',
    Engine: 'redis',
    NumCacheClusters: 3,
    AutomaticFailoverEnabled: true,
    ...extra,
  }));
  return waitGroup(ec, id);
}

beforeAll(async () => {
  // Ten simulated minutes to a real second: a group takes 1 s to create, a snapshot 0.5 s.
  provider = await LocalProvider.start({ speed: 600, startTime: Date.UTC(2026, 10, 20, 12, 0) });
});

afterAll(async () => {
  for (const r of clients) r.disconnect();
  for (const c of sdkClients.values()) c.destroy();
  await provider?.stop();
});

describe('replication groups', () => {
  test('a new group is creating, then available, with real nodes that replicate', async () => {
    const ec = client();
    const created = await ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'sessions',
      ReplicationGroupDescription: 'sessions',
      CacheNodeType: 'cache.r7g.large',
      NumCacheClusters: 3,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      SnapshotRetentionLimit: 3,
      SnapshotWindow: '05:00-06:00',
    }));
    expect(created.ReplicationGroup?.Status).toBe('creating');
    expect(created.ReplicationGroup?.MemberClusters).toEqual(['sessions-001', 'sessions-002', 'sessions-003']);

    await waitGroup(ec, 'sessions');
    // As CloudFormation does: the snapshotting node is set after creation.
    await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'sessions', SnapshottingClusterId: 'sessions-002' }));
    const group = await waitGroup(ec, 'sessions');
    expect(group).toMatchObject({
      SnapshotRetentionLimit: 3,
      SnapshotWindow: '05:00-06:00',
      SnapshottingClusterId: 'sessions-002',
      AutomaticFailover: 'enabled',
      MultiAZ: 'enabled',
      ClusterEnabled: false,
      ARN: 'arn:aws:elasticache:eu-west-1:000000000000:replicationgroup:sessions',
    });
    const nodeGroup = group.NodeGroups![0];
    // ElastiCache's endpoint names, on the group's port (6379 by default); the provider's DNS server
    // answers them (test/local/endpoints.test.ts), and this process resolves through it.
    expect(nodeGroup.PrimaryEndpoint).toEqual({ Address: expect.stringMatching(/^sessions\.[a-z0-9]{6}\.ng\.0001\.euw1\.cache\.amazonaws\.com$/), Port: 6379 });
    expect(nodeGroup.NodeGroupMembers!.map((m) => m.CurrentRole)).toEqual(['primary', 'replica', 'replica']);

    const primary = redis(nodeGroup.PrimaryEndpoint);
    await primary.set('user:1', 'alice');
    await primary.wait(2, 5000);
    for (const member of nodeGroup.NodeGroupMembers!.slice(1)) {
      expect(await redis(member.ReadEndpoint).get('user:1')).toBe('alice');
    }
  });

  test('DescribeCacheClusters lists the members with their node endpoints', async () => {
    const out = await client().send(new DescribeCacheClustersCommand({ ShowCacheNodeInfo: true }));
    const members = out.CacheClusters!.filter((c) => c.ReplicationGroupId === 'sessions');
    expect(members.map((m) => m.CacheClusterId)).toEqual(['sessions-001', 'sessions-002', 'sessions-003']);
    expect(members[0].CacheNodes![0].Endpoint?.Port).toBeGreaterThan(0);
    await expect(client().send(new DescribeCacheClustersCommand({ CacheClusterId: 'nope-001' }))).rejects.toBeInstanceOf(CacheClusterNotFoundFault);
  });

  test('errors come back as the SDK typed exceptions', async () => {
    const ec = client();
    await expect(ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'missing' }))).rejects.toBeInstanceOf(ReplicationGroupNotFoundFault);
    await expect(ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'sessions', ReplicationGroupDescription: 'again', CacheNodeType: 'cache.r7g.large',
    }))).rejects.toBeInstanceOf(ReplicationGroupAlreadyExistsFault);
    await expect(ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'sessions', SnapshottingClusterId: 'sessions-009' })))
      .rejects.toThrow('Specified snapshotting cluster sessions-009 does not exist.');
  });

  test('regions are separate', async () => {
    await expect(client('us-east-1').send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'sessions' })))
      .rejects.toBeInstanceOf(ReplicationGroupNotFoundFault);
  });

  test('turning snapshots on for a group with replicas needs a snapshotting cluster', async () => {
    const ec = client();
    await createGroup(ec, 'nosnap');
    await expect(ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'nosnap', SnapshotRetentionLimit: 5 })))
      .rejects.toBeInstanceOf(InvalidParameterCombinationException);
    const out = await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'nosnap', SnapshotRetentionLimit: 5, SnapshottingClusterId: 'nosnap-003' }));
    expect(out.ReplicationGroup).toMatchObject({ SnapshotRetentionLimit: 5, SnapshottingClusterId: 'nosnap-003' });
  });
});

describe('manual snapshots', () => {
  test('a snapshot of a group is taken from a replica; the group is snapshotting meanwhile', async () => {
    const ec = client();
    const primary = redis((await waitGroup(ec, 'sessions')).NodeGroups![0].PrimaryEndpoint);
    const pipeline = primary.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`k${i}`, `v${i}`);
    await pipeline.exec();
    await primary.wait(2, 5000);

    const started = await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'sessions', SnapshotName: 'before-upgrade' }));
    expect(started.Snapshot).toMatchObject({ SnapshotName: 'before-upgrade', SnapshotStatus: 'creating', SnapshotSource: 'manual' });
    expect(await groupStatus(ec, 'sessions')).toBe('snapshotting');
    // While it snapshots, other operations on the group are refused.
    await expect(ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'sessions', SnapshotName: 'second' })))
      .rejects.toBeInstanceOf(InvalidReplicationGroupStateFault);
    await expect(ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'sessions', SnapshotRetentionLimit: 4 })))
      .rejects.toBeInstanceOf(InvalidReplicationGroupStateFault);

    const done = await waitSnapshot(ec, 'before-upgrade');
    expect(done.NodeSnapshots).toEqual([expect.objectContaining({
      CacheClusterId: 'sessions-002',
      NodeGroupId: '0001',
      NodeGroupConfiguration: expect.objectContaining({ Slots: '0-16383', ReplicaCount: 2 }),
    })]);
    expect(await groupStatus(ec, 'sessions')).toBe('available');
    await expect(ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'sessions', SnapshotName: 'before-upgrade' })))
      .rejects.toBeInstanceOf(SnapshotAlreadyExistsFault);
  });

  test('a snapshot can name the member it is taken from', async () => {
    const ec = client();
    await ec.send(new CreateSnapshotCommand({ CacheClusterId: 'sessions-003', SnapshotName: 'from-003' }));
    const s = await waitSnapshot(ec, 'from-003');
    expect(s.NodeSnapshots![0].CacheClusterId).toBe('sessions-003');
    await expect(ec.send(new CreateSnapshotCommand({ CacheClusterId: 'sessions-009', SnapshotName: 'nope' })))
      .rejects.toBeInstanceOf(CacheClusterNotFoundFault);
  });

  test('a new group seeded from the snapshot has the data', async () => {
    const ec = client();
    const group = await createGroup(ec, 'restored', { SnapshotName: 'before-upgrade', NumCacheClusters: 2 });
    const restored = redis(group.NodeGroups![0].PrimaryEndpoint);
    expect(await restored.dbsize()).toBe(1001);
    expect(await restored.get('k999')).toBe('v999');
    expect(await restored.get('user:1')).toBe('alice');
  });

  test('a copy is a new manual snapshot with the same data', async () => {
    const ec = client();
    const out = await ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'before-upgrade', TargetSnapshotName: 'before-upgrade-copy' }));
    expect(out.Snapshot?.SnapshotStatus).toBe('creating');
    await waitSnapshot(ec, 'before-upgrade-copy');
    const [a] = provider.elasticache('eu-west-1').snapshotFiles('before-upgrade');
    const [b] = provider.elasticache('eu-west-1').snapshotFiles('before-upgrade-copy');
    expect(fs.readFileSync(b).equals(fs.readFileSync(a))).toBe(true);
    await expect(ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'missing', TargetSnapshotName: 'x' }))).rejects.toBeInstanceOf(SnapshotNotFoundFault);
  });

  test('a snapshot that is still being created cannot be copied or deleted', async () => {
    const ec = client();
    await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'restored', SnapshotName: 'in-flight' }));
    await expect(ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'in-flight', TargetSnapshotName: 'copy-of-in-flight' })))
      .rejects.toBeInstanceOf(InvalidSnapshotStateFault);
    await expect(ec.send(new DeleteSnapshotCommand({ SnapshotName: 'in-flight' }))).rejects.toBeInstanceOf(InvalidSnapshotStateFault);
    await waitSnapshot(ec, 'in-flight');
    const deleted = await ec.send(new DeleteSnapshotCommand({ SnapshotName: 'in-flight' }));
    expect(deleted.Snapshot?.SnapshotStatus).toBe('deleting');
    await expect(ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'in-flight' }))).rejects.toBeInstanceOf(SnapshotNotFoundFault);
  });

  test('an injected failure leaves the snapshot failed and the group available', async () => {
    const ec = client();
    provider.elasticache('eu-west-1').faults.failSnapshots = 1;
    await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'restored', SnapshotName: 'doomed' }));
    const failed = await waitSnapshot(ec, 'doomed', 'failed');
    expect(failed.SnapshotStatus).toBe('failed');
    expect(await groupStatus(ec, 'restored')).toBe('available');
  });

  test('cache.t1.micro cannot take snapshots', async () => {
    const ec = client();
    await createGroup(ec, 'tiny', { CacheNodeType: 'cache.t1.micro', NumCacheClusters: 1, AutomaticFailoverEnabled: false });
    await expect(ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'tiny', SnapshotName: 'tiny-snap' })))
      .rejects.toBeInstanceOf(SnapshotFeatureNotSupportedFault);
  });

  test('a node takes at most 20 manual snapshots in 24 hours', async () => {
    const ec = client();
    await createGroup(ec, 'busy', { NumCacheClusters: 1, AutomaticFailoverEnabled: false });
    for (let i = 1; i <= 20; i++) {
      await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'busy', SnapshotName: `busy-${i}` }));
      await waitSnapshot(ec, `busy-${i}`);
      await waitGroup(ec, 'busy');
    }
    await expect(ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'busy', SnapshotName: 'busy-21' })))
      .rejects.toBeInstanceOf(SnapshotQuotaExceededFault);
  });

  test('DescribeSnapshots pages with MaxRecords and Marker, and filters by group and source', async () => {
    const ec = client();
    const all = await ec.send(new DescribeSnapshotsCommand({ MaxRecords: 100 }));
    expect(all.Snapshots!.length).toBeGreaterThan(20);
    expect(all.Marker).toBeUndefined();
    const first = await ec.send(new DescribeSnapshotsCommand({ MaxRecords: 20 }));
    expect(first.Snapshots).toHaveLength(20);
    expect(first.Marker).toBeDefined();
    const rest = await ec.send(new DescribeSnapshotsCommand({ MaxRecords: 20, Marker: first.Marker }));
    const paged = [...first.Snapshots!, ...rest.Snapshots!].map((s) => s.SnapshotName);
    expect(paged).toEqual(all.Snapshots!.slice(0, paged.length).map((s) => s.SnapshotName));
    const busy = await ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'busy' }));
    expect(busy.Snapshots!.map((s) => s.SnapshotName).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `busy-${i + 1}`).sort());
    const user = await ec.send(new DescribeSnapshotsCommand({ SnapshotSource: 'user' }));
    expect(user.Snapshots!.every((s) => s.SnapshotSource === 'manual')).toBe(true);
    const system = await ec.send(new DescribeSnapshotsCommand({ SnapshotSource: 'system', ReplicationGroupId: 'busy' }));
    expect(system.Snapshots).toEqual([]);
  });

  test('tags on groups and snapshots', async () => {
    const ec = client();
    const arn = 'arn:aws:elasticache:eu-west-1:000000000000:snapshot:before-upgrade';
    await ec.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: 'purpose', Value: 'upgrade' }, { Key: 'team', Value: 'cache' }] }));
    await ec.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: ['team'] }));
    const out = await ec.send(new ListTagsForResourceCommand({ ResourceName: arn }));
    expect(out.TagList).toEqual([{ Key: 'purpose', Value: 'upgrade' }]);
  });
});

describe('deletion and final snapshots', () => {
  test('a final snapshot name that is taken fails and deletes nothing', async () => {
    const ec = client();
    await expect(ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'restored', FinalSnapshotIdentifier: 'before-upgrade' })))
      .rejects.toBeInstanceOf(SnapshotAlreadyExistsFault);
    expect(await groupStatus(ec, 'restored')).toBe('available');
  });

  test('the final snapshot is taken from the primary; the group goes, its manual snapshots stay', async () => {
    const ec = client();
    const out = await ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'restored', FinalSnapshotIdentifier: 'restored-final' }));
    expect(out.ReplicationGroup?.Status).toBe('deleting');
    const final = await waitSnapshot(ec, 'restored-final');
    expect(final.NodeSnapshots![0].CacheClusterId).toBe('restored-001');
    await until('restored gone', async () => {
      try {
        await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'restored' }));
        return undefined;
      } catch (e) {
        return e instanceof ReplicationGroupNotFoundFault ? true : undefined;
      }
    });
    const left = await ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'restored' }));
    expect(left.Snapshots!.map((s) => s.SnapshotName).sort()).toEqual(['doomed', 'restored-final']);
    // The data is in the final snapshot: a group seeded from it has it.
    const again = await createGroup(ec, 'restored-again', { SnapshotName: 'restored-final', NumCacheClusters: 1, AutomaticFailoverEnabled: false });
    expect(await redis(again.NodeGroups![0].PrimaryEndpoint).get('k1')).toBe('v1');
  });
});

describe('automatic snapshots', () => {
  test('advancing the clock takes daily snapshots in the window, named like ElastiCache, kept for the retention', async () => {
    const ec = client('ap-southeast-2');
    await createGroup(ec, 'daily', { SnapshotRetentionLimit: 2, SnapshotWindow: '05:00-06:00' });
    await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'daily', SnapshottingClusterId: 'daily-002' }));
    await provider.clock.advance(3 * DAY);
    const out = await ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'daily', SnapshotSource: 'system' }));
    const names = out.Snapshots!.map((s) => s.SnapshotName);
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^automatic\.daily-2026-11-2\d-05-00$/);
    expect(out.Snapshots!.every((s) => s.SnapshotSource === 'automated' && s.NodeSnapshots![0].CacheClusterId === 'daily-002')).toBe(true);
    // Automatic snapshots go with their group.
    await ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'daily' }));
    await until('daily snapshots gone', async () => {
      const left = await ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'daily' }));
      return left.Snapshots!.length === 0 ? true : undefined;
    });
  });
});

describe('injected faults', () => {
  test('throttling is retried by the SDK; more failures than its attempts reach the caller', async () => {
    const ec = client('ca-central-1');
    const engine = provider.elasticache('ca-central-1');
    engine.failNextCalls('DescribeSnapshots', 'Throttling', 1);
    const retried = await ec.send(new DescribeSnapshotsCommand({}));
    expect(retried.$metadata.attempts).toBe(2);
    engine.failNextCalls('DescribeSnapshots', 'InternalFailure', 3);
    const error = await ec.send(new DescribeSnapshotsCommand({})).catch((e) => e);
    expect(error.name).toBe('InternalFailure');
    expect(error.$metadata.attempts).toBe(3);
  });

  test('a snapshot from a node killed while it is taken fails', async () => {
    // A killed node is now replaced at once (the group is modifying meanwhile and refuses a new
    // snapshot), so the node is killed while its snapshot is under way: an hour-long snapshot.
    const ec = client('ca-central-1');
    const engine = provider.elasticache('ca-central-1');
    await createGroup(ec, 'fragile', { NumCacheClusters: 2 });
    engine.faults.snapshotDelays.push(60 * MINUTE);
    await ec.send(new CreateSnapshotCommand({ CacheClusterId: 'fragile-002', SnapshotName: 'fragile-1' }));
    await engine.killNode('fragile-002');
    expect((await waitSnapshot(ec, 'fragile-1', 'failed')).SnapshotStatus).toBe('failed');
    await waitGroup(ec, 'fragile');
  });
});

describe('failover and data tiering', () => {
  test('TestFailover promotes a replica; the old primary follows it', async () => {
    const ec = client('sa-east-1');
    await createGroup(ec, 'swap', { NumCacheClusters: 3 });
    const out = await ec.send(new TestFailoverCommand({ ReplicationGroupId: 'swap', NodeGroupId: '0001' }));
    expect(out.ReplicationGroup?.Status).toBe('modifying');
    await expect(ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'swap', SnapshotName: 'during-failover' })))
      .rejects.toBeInstanceOf(InvalidReplicationGroupStateFault);
    const group = await waitGroup(ec, 'swap');
    const members = group.NodeGroups![0].NodeGroupMembers!;
    expect(members.map((m) => [m.CacheClusterId, m.CurrentRole])).toEqual([['swap-002', 'primary'], ['swap-001', 'replica'], ['swap-003', 'replica']]);
    const primary = redis(group.NodeGroups![0].PrimaryEndpoint);
    await primary.set('after', 'failover');
    await primary.wait(2, 5000);
    expect(await redis(members[1].ReadEndpoint).get('after')).toBe('failover');
    await expect(ec.send(new TestFailoverCommand({ ReplicationGroupId: 'swap', NodeGroupId: '0009' }))).rejects.toBeInstanceOf(NodeGroupNotFoundFault);
    await createGroup(ec, 'single', { NumCacheClusters: 1, AutomaticFailoverEnabled: false });
    await expect(ec.send(new TestFailoverCommand({ ReplicationGroupId: 'single', NodeGroupId: '0001' }))).rejects.toBeInstanceOf(TestFailoverNotAvailableFault);
  });

  test('a data tiering snapshot cannot be exported and restores only into data tiering node types', async () => {
    const ec = client('sa-east-1');
    await createGroup(ec, 'tiered', { CacheNodeType: 'cache.r6gd.xlarge', NumCacheClusters: 1, AutomaticFailoverEnabled: false });
    await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'tiered', SnapshotName: 'tiered-1' }));
    await waitSnapshot(ec, 'tiered-1');
    await expect(ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'tiered-1', TargetSnapshotName: 'tiered-1', TargetBucket: 'any-bucket' })))
      .rejects.toThrow('Snapshot tiered-1 was taken from data tiering node type cache.r6gd.xlarge; exporting data tiering snapshots to S3 is not supported.');
    await expect(ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'untiered', ReplicationGroupDescription: 'x', CacheNodeType: 'cache.r7g.large', SnapshotName: 'tiered-1',
    }))).rejects.toBeInstanceOf(InvalidParameterCombinationException);
    const restored = await createGroup(ec, 'retiered', { CacheNodeType: 'cache.r6gd.2xlarge', NumCacheClusters: 1, AutomaticFailoverEnabled: false, SnapshotName: 'tiered-1' });
    expect(restored).toMatchObject({ CacheNodeType: 'cache.r6gd.2xlarge', DataTiering: 'enabled' });
  });
});

describe('RetainPrimaryCluster', () => {
  test('deleting a group can keep its primary as a standalone cache cluster, with its data', async () => {
    const ec = client('eu-north-1');
    const group = await createGroup(ec, 'keeper', { NumCacheClusters: 2 });
    await redis(group.NodeGroups![0].PrimaryEndpoint).set('kept', 'yes');
    await ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'keeper', RetainPrimaryCluster: true }));
    await until('keeper gone', async () => {
      const err = await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'keeper' })).catch((e) => e);
      return err instanceof ReplicationGroupNotFoundFault ? true : undefined;
    });
    const clusters = (await ec.send(new DescribeCacheClustersCommand({ ShowCacheNodeInfo: true }))).CacheClusters!;
    expect(clusters.map((c) => [c.CacheClusterId, c.ReplicationGroupId])).toEqual([['keeper-001', undefined]]);
    expect(await redis(clusters[0].CacheNodes![0].Endpoint).get('kept')).toBe('yes');
    await ec.send(new CreateSnapshotCommand({ CacheClusterId: 'keeper-001', SnapshotName: 'kept-1' }));
    expect((await waitSnapshot(ec, 'kept-1')).NodeSnapshots![0].CacheClusterId).toBe('keeper-001');
    const deleted = await ec.send(new DeleteCacheClusterCommand({ CacheClusterId: 'keeper-001' }));
    expect(deleted.CacheCluster?.CacheClusterStatus).toBe('deleting');
    await expect(ec.send(new DescribeCacheClustersCommand({ CacheClusterId: 'keeper-001' }))).rejects.toBeInstanceOf(CacheClusterNotFoundFault);
  });
});
