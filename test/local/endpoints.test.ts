/**
 * The local provider's endpoints as ElastiCache gives them: host names in ElastiCache's forms,
 * answered by the provider's DNS server (and `dig`), each node at a loopback address of its own on
 * the group's port, and the primary's name following a failover.
 */
import { execFile } from 'child_process';
import * as dns from 'dns';
import { promisify } from 'util';
import {
  CreateReplicationGroupCommand, DeleteReplicationGroupCommand, DescribeReplicationGroupsCommand, ElastiCacheClient,
  InvalidParameterValueException, ReplicationGroup, ReplicationGroupNotFoundFault, TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import Redis, { Cluster } from 'ioredis';
import { endpointId, regionCode } from '../../local/elasticache/endpoints';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { groupAvailable } from '../../local/waiters';

jest.setTimeout(120_000);

const REGION = 'ap-southeast-2';
let provider: LocalProvider;
let ec: ElastiCacheClient;
const closers: Array<() => void> = [];

function resolver(): dns.promises.Resolver {
  const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
  r.setServers([provider.dns.address]);
  return r;
}

async function create(id: string, props: Partial<ConstructorParameters<typeof CreateReplicationGroupCommand>[0]>): Promise<ReplicationGroup> {
  await ec.send(new CreateReplicationGroupCommand({ ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.t4g.small', ...props }));
  return groupAvailable(ec, id);
}

function client(host: string, port: number, options: Record<string, unknown> = {}): Redis {
  const r = new Redis({ host, port, maxRetriesPerRequest: 1, connectTimeout: 3000, ...options });
  r.on('error', () => undefined);
  closers.push(() => r.disconnect());
  return r;
}

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
});

afterAll(async () => {
  for (const close of closers) close();
  ec?.destroy();
  await provider?.stop();
});

test('region codes and the account identifier in endpoint names', () => {
  expect(['us-east-1', 'eu-west-1', 'ap-southeast-2', 'eu-central-1', 'ap-northeast-1', 'il-central-1'].map(regionCode))
    .toEqual(['use1', 'euw1', 'apse2', 'euc1', 'apne1', 'ilc1']);
  expect(endpointId('000000000000', 'eu-west-1')).toMatch(/^[a-z0-9]{6}$/);
  expect(endpointId('000000000000', 'eu-west-1')).toBe(endpointId('000000000000', 'eu-west-1'));
  expect(endpointId('000000000000', 'eu-west-1')).not.toBe(endpointId('000000000000', 'us-east-1'));
});

test('a group without TLS: names in ElastiCache\'s form, each node at its own loopback address on the group\'s port', async () => {
  const group = await create('orders', { NumCacheClusters: 3, AutomaticFailoverEnabled: true, Port: 7000 });
  const id = endpointId('000000000000', REGION);
  const ng = group.NodeGroups![0];
  expect(ng.PrimaryEndpoint).toEqual({ Address: `orders.${id}.ng.0001.apse2.cache.amazonaws.com`, Port: 7000 });
  expect(ng.ReaderEndpoint).toEqual({ Address: `orders-ro.${id}.ng.0001.apse2.cache.amazonaws.com`, Port: 7000 });
  expect(ng.NodeGroupMembers!.map((m) => m.ReadEndpoint)).toEqual(['001', '002', '003'].map((n) => ({
    Address: `orders-${n}.${id}.0001.apse2.cache.amazonaws.com`, Port: 7000,
  })));

  // The provider's DNS server answers every name; every node has an address of its own.
  const r = resolver();
  const nodes = await Promise.all(ng.NodeGroupMembers!.map((m) => r.resolve4(m.ReadEndpoint!.Address!)));
  const addresses = nodes.map(([a]) => a);
  expect(new Set(addresses).size).toBe(3);
  for (const a of addresses) expect(a).toMatch(/^127\.(1\d\d)\.\d+\.\d+$/);
  const primaryMember = ng.NodeGroupMembers!.find((m) => m.CurrentRole === 'primary')!;
  expect(await r.resolve4(ng.PrimaryEndpoint!.Address!)).toEqual(await r.resolve4(primaryMember.ReadEndpoint!.Address!));
  const replicas = ng.NodeGroupMembers!.filter((m) => m.CurrentRole === 'replica');
  expect((await r.resolve4(ng.ReaderEndpoint!.Address!)).sort())
    .toEqual((await Promise.all(replicas.map((m) => r.resolve4(m.ReadEndpoint!.Address!)))).flat().sort());

  // Each node listens on the group's port at its address, and nothing else answers there.
  for (const address of addresses) expect(await client(address, 7000).ping()).toBe('PONG');
  // A client given the name (resolved through the provider by this process's lookup) writes to the primary.
  const writer = client(ng.PrimaryEndpoint!.Address!, 7000);
  await writer.set('order:1', 'paid');
  expect(await writer.info('replication')).toMatch(/role:master/);

  // `dig`, as the README tells users to query the server (run asynchronously: the server is in this process).
  const [host, port] = provider.dns.address.split(':');
  const dug = await promisify(execFile)('dig', [`@${host}`, '-p', port, '+short', '+time=2', '+tries=1', ng.PrimaryEndpoint!.Address!]);
  expect(dug.stdout.trim()).toBe(await r.resolve4(ng.PrimaryEndpoint!.Address!).then(([a]) => a));
});

test('groups share the default port, each node at its own address', async () => {
  const [a, b] = await Promise.all([create('alpha', { NumCacheClusters: 1 }), create('beta', { NumCacheClusters: 1 })]);
  const ends = [a, b].map((g) => g.NodeGroups![0].PrimaryEndpoint!);
  expect(ends.map((e) => e.Port)).toEqual([6379, 6379]);
  const [ipA, ipB] = await Promise.all(ends.map((e) => resolver().resolve4(e.Address!).then(([ip]) => ip)));
  expect(ipA).not.toBe(ipB);
  await client(ends[0].Address!, 6379).set('who', 'alpha');
  expect(await client(ends[1].Address!, 6379).get('who')).toBeNull();
  expect(await client(ends[0].Address!, 6379).get('who')).toBe('alpha');
});

test('after a failover the primary name answers the new primary, and a client resolving it again writes there', async () => {
  const group = await create('ledger', { NumCacheClusters: 2, AutomaticFailoverEnabled: true });
  const ng = group.NodeGroups![0];
  const before = await resolver().resolve4(ng.PrimaryEndpoint!.Address!);
  const replica = ng.NodeGroupMembers!.find((m) => m.CurrentRole === 'replica')!;
  const replicaAddress = await resolver().resolve4(replica.ReadEndpoint!.Address!);
  await ec.send(new TestFailoverCommand({ ReplicationGroupId: 'ledger', NodeGroupId: '0001' }));
  await until('failed over', async () => {
    const g = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'ledger' }))).ReplicationGroups![0];
    return g.Status === 'available' && g.NodeGroups![0].NodeGroupMembers!.find((m) => m.CacheClusterId === replica.CacheClusterId)!.CurrentRole === 'primary'
      ? g : undefined;
  });
  const after = await resolver().resolve4(ng.PrimaryEndpoint!.Address!);
  expect(after).toEqual(replicaAddress);
  expect(after).not.toEqual(before);
  const writer = client(ng.PrimaryEndpoint!.Address!, 6379);
  await writer.set('entry', '1');
  expect(await writer.info('replication')).toMatch(/role:master/);
});

test('a cluster mode enabled TLS group: the configuration endpoint answers every node, and the cluster gives node names', async () => {
  const group = await create('catalog', {
    ClusterMode: 'enabled', NumNodeGroups: 2, ReplicasPerNodeGroup: 1, AutomaticFailoverEnabled: true, TransitEncryptionEnabled: true,
  });
  const id = endpointId('000000000000', REGION);
  expect(group.ConfigurationEndpoint).toEqual({ Address: `clustercfg.catalog.${id}.apse2.cache.amazonaws.com`, Port: 6379 });
  expect(await resolver().resolve4(group.ConfigurationEndpoint!.Address!)).toHaveLength(4);
  const c = new Cluster([{ host: group.ConfigurationEndpoint!.Address!, port: 6379 }], {
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions: { tls: {} },
  });
  c.on('error', () => undefined);
  closers.push(() => c.disconnect());
  for (let i = 0; i < 200; i++) await c.set(`item:${i}`, String(i));
  expect(await c.get('item:199')).toBe('199');
  // CLUSTER SLOTS names the nodes (hostname as the preferred endpoint), so TLS verifies the name.
  const slots = await c.cluster('SLOTS');
  expect(slots).toHaveLength(2);
  for (const [, , [host]] of slots) expect(host).toMatch(new RegExp(`^catalog-000[12]-00[12]\\.catalog\\.${id}\\.apse2\\.cache\\.amazonaws\\.com$`));
});

test('a deleted group\'s names stop resolving; a bad port is refused', async () => {
  const group = await create('temp', { NumCacheClusters: 1 });
  const name = group.NodeGroups![0].PrimaryEndpoint!.Address!;
  expect(await resolver().resolve4(name)).toHaveLength(1);
  await ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: 'temp' }));
  await until('temp gone', async () => {
    const e = await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'temp' })).catch((err) => err);
    return e instanceof ReplicationGroupNotFoundFault ? true : undefined;
  });
  await expect(resolver().resolve4(name)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  await expect(ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'badport', ReplicationGroupDescription: 'x', CacheNodeType: 'cache.t4g.small', Port: 70000,
  }))).rejects.toBeInstanceOf(InvalidParameterValueException);
});
