/**
 * The ElastiCache emulator's faults against `cdk-elasticache-backup serve` as a process (issue 13):
 * a node that dies while its group is created, the clock driving automatic snapshots, and a node
 * killed by its PID being replaced.
 */
import * as dns from 'dns';
import * as fs from 'fs';
import { CreateReplicationGroupCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import Redis from 'ioredis';
import { alive, kill, redisChildren, requireBuiltCli, Serve, startServe, terminate } from './serve';
import { until } from '../../local/poll';

jest.setTimeout(90_000);

beforeAll(requireBuiltCli);

/** The PID of the redis-server child of `pid` listening on `address` (redis-server shows `host:port` in its process title). */
function redisAt(pid: number, address: string): number | undefined {
  return redisChildren(pid).find((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf-8').includes(address));
}

interface Served extends Serve {
  readonly ec: ElastiCacheClient;
}

const started: Served[] = [];

async function serve(speed: number): Promise<Served> {
  const s = await startServe(['--speed', String(speed)]);
  const ec = new ElastiCacheClient({ region: 'eu-west-1', endpoint: s.env.AWS_ENDPOINT_URL_ELASTICACHE, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
  const served = { ...s, ec };
  started.push(served);
  return served;
}

/** A call that must answer within `ms` (a hung provider fails the test instead of the test timing out). */
async function within<T>(ms: number, what: string, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(async () => {
  // Whatever a failed test left: stopped by PID, its nodes too.
  for (const s of started.splice(0)) {
    s.ec.destroy();
    const nodes = s.child.pid ? redisChildren(s.child.pid) : [];
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    for (const pid of nodes) kill(pid);
    fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
});

test('a node that dies while its group is created: calls still answer, the group ends create-failed, SIGTERM stops serve', async () => {
  const s = await serve(600);
  await s.ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'doomed', ReplicationGroupDescription: 'doomed', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 6,
  }));
  // Once the replicas are starting, the primary (the oldest node) dies.
  const nodes = await until('replicas starting', async () => {
    const found = redisChildren(s.child.pid!);
    return found.length >= 2 ? found : undefined;
  }, 10_000, 1);
  process.kill(nodes[0], 'SIGKILL');
  const group = await until('doomed ended', async () => {
    const g = (await within(3_000, 'DescribeReplicationGroups', s.ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'doomed' })))).ReplicationGroups![0];
    return g.Status === 'creating' ? undefined : g;
  }, 60_000);
  expect(group.Status).toBe('create-failed');
  expect(group.NodeGroups![0].PrimaryEndpoint).toBeUndefined();
  // The region still answers.
  expect((await within(3_000, 'DescribeSnapshots', s.ec.send(new DescribeSnapshotsCommand({})))).Snapshots).toEqual([]);
  const left = redisChildren(s.child.pid!);
  expect(await within(15_000, 'serve exit after SIGTERM', terminate(s))).toBe(0);
  expect(left.filter(alive)).toEqual([]);
  expect(redisChildren(s.child.pid!)).toEqual([]);
  expect(fs.existsSync(s.dataDir)).toBe(false);
});

test('under serve, the clock takes the daily automatic snapshots as simulated days pass', async () => {
  // 100,000 simulated ms per real ms: a simulated day is 0.864 real seconds.
  const s = await serve(100_000);
  await s.ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'daily',
    ReplicationGroupDescription: 'daily',
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 1,
    SnapshotRetentionLimit: 2,
    SnapshotWindow: '05:00-06:00',
  }));
  // About four and a half simulated days.
  await new Promise((r) => setTimeout(r, 4_000));
  const snapshots = (await within(3_000, 'DescribeSnapshots', s.ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'daily', SnapshotSource: 'system' })))).Snapshots!;
  // Kept for the retention: two days' snapshots, taken at the window's start.
  expect(snapshots.length).toBe(2);
  for (const snapshot of snapshots) {
    expect(snapshot.SnapshotName).toMatch(/^automatic\.daily-\d{4}-\d\d-\d\d-05-00$/);
    expect(snapshot.SnapshotSource).toBe('automated');
  }
  expect(await within(15_000, 'serve exit after SIGTERM', terminate(s))).toBe(0);
});

test('under serve, a redis-server killed by its PID is replaced: failover, data kept, the old primary back as a replica, nothing left on stop', async () => {
  const s = await serve(600);
  await s.ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'survivor',
    ReplicationGroupDescription: 'survivor',
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
  }));
  const describe = async () => (await within(3_000, 'DescribeReplicationGroups',
    s.ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'survivor' })))).ReplicationGroups![0];
  const before = await until('survivor available', async () => {
    const g = await describe();
    return g.Status === 'available' ? g : undefined;
  }, 30_000);
  const endpoint = before.NodeGroups![0].PrimaryEndpoint!;
  const primary = new Redis({ host: endpoint.Address, port: endpoint.Port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  primary.on('error', () => undefined);
  const clients = [primary];
  try {
    await primary.set('written', 'before');
    expect(await primary.wait(1, 5_000)).toBe(1);
    // The endpoint's name, resolved through serve's DNS server, is the node's own loopback address.
    const address = await new Promise<string>((resolve, reject) => dns.lookup(endpoint.Address!, (e, a) => (e ? reject(e) : resolve(a))));
    const pid = redisAt(s.child.pid!, `${address}:${endpoint.Port}`)!;
    expect(pid).toBeDefined();
    process.kill(pid, 'SIGKILL');
    // Seen through the SDK: the group fails over, the new primary has the data.
    const failedOver = await until('survivor failed over', async () => {
      const g = await describe();
      const [first] = g.NodeGroups![0].NodeGroupMembers!;
      return first.CacheClusterId === 'survivor-002' && first.CurrentRole === 'primary' && g.NodeGroups![0].PrimaryEndpoint ? g : undefined;
    }, 30_000);
    // The primary endpoint's name now answers the promoted node's address (the port is the group's).
    const promoted = failedOver.NodeGroups![0].PrimaryEndpoint!;
    expect(promoted).toEqual(endpoint);
    expect(await new Promise<string>((resolve, reject) => dns.lookup(promoted.Address!, (e, a) => (e ? reject(e) : resolve(a))))).not.toBe(address);
    const next = new Redis({ host: promoted.Address, port: promoted.Port, maxRetriesPerRequest: 2 });
    next.on('error', () => undefined);
    clients.push(next);
    expect(await next.get('written')).toBe('before');
    await next.set('written', 'after');
    const after = await until('survivor available again', async () => {
      const g = await describe();
      return g.Status === 'available' ? g : undefined;
    }, 30_000);
    const members = after.NodeGroups![0].NodeGroupMembers!;
    expect(members.map((m) => [m.CacheClusterId, m.CurrentRole])).toEqual([['survivor-002', 'primary'], ['survivor-001', 'replica']]);
    expect(await next.wait(1, 5_000)).toBe(1);
    const replaced = new Redis({ host: members[1].ReadEndpoint!.Address, port: members[1].ReadEndpoint!.Port, maxRetriesPerRequest: 2 });
    replaced.on('error', () => undefined);
    clients.push(replaced);
    expect(await replaced.get('written')).toBe('after');
    // A new process for the failed member, and no other.
    expect(redisChildren(s.child.pid!).filter((p) => p !== pid)).toHaveLength(2);
  } finally {
    for (const c of clients) c.disconnect();
  }
  const left = redisChildren(s.child.pid!);
  expect(await within(15_000, 'serve exit after SIGTERM', terminate(s))).toBe(0);
  expect(left.filter(alive)).toEqual([]);
  expect(fs.existsSync(s.dataDir)).toBe(false);
});
