/**
 * The drill's traffic (local/drill/traffic.ts) against real groups of the local provider, by their
 * endpoint names: the dataset and the stream at its stated rate, stamped on the simulated clock, and
 * the read-back's count of what is lost.
 */
import {
  CreateReplicationGroupCommand, ElastiCacheClient, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import { connect, keyOf, Traffic, TrafficTarget } from '../../local/drill/traffic';
import { LocalProvider } from '../../local/provider';
import { groupAvailable } from '../../local/waiters';

jest.setTimeout(120_000);

const REGION = 'eu-west-1';
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
let provider: LocalProvider;
let ec: ElastiCacheClient;

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600, startTime: T0 });
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
});

afterAll(async () => {
  ec?.destroy();
  await provider?.stop();
});

async function create(id: string, props: Partial<ConstructorParameters<typeof CreateReplicationGroupCommand>[0]>): Promise<ReplicationGroup> {
  await ec.send(new CreateReplicationGroupCommand({ ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.t4g.small', ...props }));
  return groupAvailable(ec, id);
}

test('a TLS group with an AUTH token: the stream writes its stated rate, stamped on the clock, and the read-back counts deletions as lost', async () => {
  const token = 'drill-token-0123456789';
  const group = await create('traffic', { NumCacheClusters: 1, TransitEncryptionEnabled: true, AuthToken: token });
  const endpoint = group.NodeGroups![0].PrimaryEndpoint!;
  const target: TrafficTarget = { host: endpoint.Address!, port: endpoint.Port!, tls: true, password: token, cluster: false };
  const traffic = new Traffic(target, { writesPerMinute: 30, valueBytes: 64 });
  await traffic.fill(1500, T0);
  expect(traffic.written).toBe(1500);
  // 10 minutes at 30 a minute, in two uneven calls: the rounding carries over.
  expect(await traffic.writeUntil(T0 + 125_000)).toBe(62);
  expect(await traffic.writeUntil(T0 + 600_000)).toBe(238);
  expect(traffic.written).toBe(1800);
  expect(traffic.lastWriteAt).toBe(T0 + 600_000);

  const check = connect(target);
  try {
    expect(await check.get(keyOf(1500))).toBe(`1500:${T0 + 2000}:`.padEnd(64, 'x'));
    // The newest 100 writes are lost, as a restore from an older backup would lose them.
    await check.del(...Array.from({ length: 100 }, (_, i) => keyOf(1700 + i)));
  } finally {
    check.disconnect();
  }
  const back = await traffic.readBack(target);
  traffic.close();
  expect(back).toEqual({ written: 1800, survived: 1700, lost: 100, lastWriteAt: T0 + 600_000, lastSurvivingWriteAt: T0 + 200 * 2000 });
});

test('a cluster mode enabled group: batches spread over the shards and come back', async () => {
  const group = await create('traffic-cluster', { ClusterMode: 'enabled', NumNodeGroups: 3, ReplicasPerNodeGroup: 0, TransitEncryptionEnabled: true });
  const target: TrafficTarget = { host: group.ConfigurationEndpoint!.Address!, port: group.ConfigurationEndpoint!.Port!, tls: true, cluster: true };
  const traffic = new Traffic(target, { writesPerMinute: 600, valueBytes: 16 });
  await traffic.fill(2500, T0);
  await traffic.writeUntil(T0 + 60_000);
  expect(traffic.written).toBe(3100);
  const back = await traffic.readBack(target);
  traffic.close();
  expect(back).toMatchObject({ written: 3100, survived: 3100, lost: 0 });
  // Four batches (hash tags b0..b3): more than one shard holds keys.
  const c = connect(target);
  try {
    await c.get(keyOf(0));
    const sizes = await Promise.all((c as any).nodes('master').map((n: any) => n.dbsize()));
    expect(sizes.filter((s: number) => s > 0).length).toBeGreaterThan(1);
  } finally {
    c.disconnect();
  }
});

test('bad rates and value sizes are refused with the rule', () => {
  const target: TrafficTarget = { host: 'x', port: 1, tls: false, cluster: false };
  expect(() => new Traffic(target, { writesPerMinute: -1, valueBytes: 10 })).toThrow(/write rate must be a finite number of writes per minute >= 0, got -1/);
  expect(() => new Traffic(target, { writesPerMinute: 1, valueBytes: 0 })).toThrow(/value size must be a whole number of bytes from 1 to 1048576, got 0/);
});
