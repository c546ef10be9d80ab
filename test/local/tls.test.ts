/**
 * In-transit encryption on the local provider: the nodes of a group created with
 * TransitEncryptionEnabled speak TLS only, as ElastiCache's do, with a certificate for their endpoint
 * names issued by this machine's local CA (local/tls.ts), which clients trust through
 * NODE_EXTRA_CA_CERTS (set by the test task), so the clients here are plain ioredis clients with
 * `tls: {}`, given the endpoint names, and nothing that knows the provider.
 */
import * as path from 'path';
import * as tls from 'tls';
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, ElastiCacheClient, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, HeadObjectCommand, PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import Redis, { Cluster, RedisOptions } from 'ioredis';
import { ELASTICACHE_CANONICAL_ID } from '../../local/elasticache/engine';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { localCa } from '../../local/tls';
import { groupAvailable, snapshotAvailable } from '../../local/waiters';

jest.setTimeout(120_000);

const REGION = 'eu-central-1';
const CA = localCa().caFile;
let provider: LocalProvider;
let ec: ElastiCacheClient;
let s3: S3Client;
const closers: Array<() => void> = [];

type Endpoint = { Address?: string; Port?: number };

function redis(endpoint: Endpoint | undefined, options: RedisOptions = {}): Redis {
  const r = new Redis({ host: endpoint!.Address, port: endpoint!.Port, maxRetriesPerRequest: 2, ...options });
  r.on('error', () => undefined);
  closers.push(() => r.disconnect());
  return r;
}

/** What a single connection attempt with `options` gets from a ping: 'PONG' or the error. */
async function tryPing(endpoint: Endpoint | undefined, options: RedisOptions): Promise<string> {
  const errors: string[] = [];
  const r = new Redis({
    host: endpoint!.Address,
    port: endpoint!.Port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
    ...options,
  });
  r.on('error', (e) => errors.push(e.message));
  try {
    await r.connect();
    return await r.ping();
  } catch (e) {
    return [...errors, (e as Error).message].join('; ');
  } finally {
    r.disconnect();
  }
}

async function create(id: string, props: Partial<ConstructorParameters<typeof CreateReplicationGroupCommand>[0]>): Promise<ReplicationGroup> {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.r7g.large', ...props,
  }));
  return groupAvailable(ec, id);
}

beforeAll(async () => {
  // The trust comes from the test task's environment (read by Node at start), not from this file.
  expect({ NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS && path.resolve(process.env.NODE_EXTRA_CA_CERTS) })
    .toEqual({ NODE_EXTRA_CA_CERTS: CA });
  provider = await LocalProvider.start({ speed: 600 });
  const credentials = { accessKeyId: 'a', secretAccessKey: 's' };
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials });
  s3 = new S3Client({ region: REGION, endpoint: provider.endpoint, forcePathStyle: true, credentials });
});

afterAll(async () => {
  for (const close of closers) close();
  ec?.destroy();
  s3?.destroy();
  await provider?.stop();
});

test('a group with in-transit encryption takes only TLS connections, verified against the test CA, and its replica syncs over TLS', async () => {
  const group = await create('secure', { NumCacheClusters: 2, AutomaticFailoverEnabled: true, TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true });
  expect(group).toMatchObject({ TransitEncryptionEnabled: true, AtRestEncryptionEnabled: true });
  const primaryEndpoint = group.NodeGroups![0].PrimaryEndpoint;
  const replicaEndpoint = group.NodeGroups![0].NodeGroupMembers!.find((m) => m.CurrentRole === 'replica')!.ReadEndpoint;

  // `tls: {}` verifies the certificate against Node's CAs, which include NODE_EXTRA_CA_CERTS' ...
  expect(await tryPing(primaryEndpoint, { tls: {} })).toBe('PONG');
  // ... and only because of it: against the public roots alone the same certificate is refused.
  expect(await tryPing(primaryEndpoint, { tls: { ca: [...tls.rootCertificates] } })).toMatch(/self[- ]signed certificate in certificate chain/);
  // The endpoint is a name (master.<group>.<id>.<r>.cache.amazonaws.com), and the certificate is for
  // the group's names and the node's address only.
  expect(primaryEndpoint?.Address).toMatch(/^master\.secure\.[a-z0-9]{6}\.euc1\.cache\.amazonaws\.com$/);
  expect(await tryPing(primaryEndpoint, { tls: { servername: 'other.example.com' } })).toMatch(/Hostname\/IP does not match certificate's altnames/);
  // Plain RESP to a TLS-only node gets no answer: the node drops the connection.
  expect(await tryPing(primaryEndpoint, {})).not.toBe('PONG');
  expect(await tryPing(replicaEndpoint, {})).not.toBe('PONG');

  const primary = redis(primaryEndpoint, { tls: {} });
  for (let i = 0; i < 100; i++) await primary.set(`k:${i}`, `v-${i}`);
  expect(await primary.wait(1, 10_000)).toBe(1);
  const replica = redis(replicaEndpoint, { tls: {} });
  expect(await replica.info('replication')).toMatch(/role:slave[\s\S]*master_link_status:up/);
  expect(await replica.get('k:99')).toBe('v-99');
  expect(await replica.dbsize()).toBe(100);
});

test('a group without in-transit encryption still takes plain connections, and no TLS ones', async () => {
  const group = await create('plain', { NumCacheClusters: 1 });
  expect(group.TransitEncryptionEnabled).toBe(false);
  const endpoint = group.NodeGroups![0].PrimaryEndpoint;
  expect(await tryPing(endpoint, {})).toBe('PONG');
  expect(await tryPing(endpoint, { tls: {} })).not.toBe('PONG');
});

test('a cluster mode enabled group with in-transit encryption is a Redis Cluster over TLS: routing, replicas and the bus', async () => {
  const group = await create('secure-cluster', {
    ClusterMode: 'enabled', NumNodeGroups: 2, ReplicasPerNodeGroup: 1, AutomaticFailoverEnabled: true, TransitEncryptionEnabled: true,
  });
  expect(group).toMatchObject({ ClusterEnabled: true, TransitEncryptionEnabled: true });
  expect(await tryPing(group.ConfigurationEndpoint, {})).not.toBe('PONG');

  // As the ElastiCache guide configures ioredis for TLS clusters: the configuration endpoint's name is
  // not resolved up front (dnsLookup), so that TLS verifies the name; the nodes are given by name too.
  const c = new Cluster([{ host: group.ConfigurationEndpoint!.Address, port: group.ConfigurationEndpoint!.Port }], {
    dnsLookup: (address, callback) => callback(null, address),
    redisOptions: { tls: {} },
  });
  c.on('error', () => undefined);
  closers.push(() => c.disconnect());
  const KEYS = 2_000;
  for (let i = 0; i < KEYS; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => c.set(`item:${i + j}`, `${i + j}`)));
  }
  const masters = c.nodes('master');
  expect(masters).toHaveLength(2);
  const sizes = await Promise.all(masters.map((m) => m.dbsize()));
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(KEYS);
  expect(Math.min(...sizes)).toBeGreaterThan(KEYS / 4);
  expect(await c.get(`item:${KEYS - 1}`)).toBe(`${KEYS - 1}`);
  // Each shard's replica follows its primary over TLS (tls-replication) and holds its keys. (Redis
  // 7.0's CLUSTER SLOTS leaves out replicas that had nothing to replicate when the client connected,
  // so they are found through CLUSTER NODES, and reached with TLS like any node.)
  const nodes = String(await masters[0].call('CLUSTER', 'NODES')).trim().split('\n').map((line) => line.split(' '));
  const replicaAddresses = nodes.filter(([, , flags]) => flags.split(',').includes('slave')).map(([, address]) => address.split('@')[0].split(':'));
  expect(replicaAddresses).toHaveLength(2);
  const replicas = replicaAddresses.map(([host, port]) => redis({ Address: host, Port: Number(port) }, { tls: {} }));
  await until('replicas in sync', async () => {
    const replicated = await Promise.all(replicas.map((r) => r.dbsize()));
    return replicated.reduce((a, b) => a + b, 0) === KEYS ? true : undefined;
  });
  for (const node of [...masters, ...replicas]) {
    expect(await node.call('CLUSTER', 'INFO')).toMatch(/cluster_state:ok[\s\S]*cluster_known_nodes:4/);
  }
});

test('a TLS group is snapshotted, exported and seeds new groups, with and without in-transit encryption', async () => {
  const source = await create('secure-source', { NumCacheClusters: 2, AutomaticFailoverEnabled: true, TransitEncryptionEnabled: true });
  const primary = redis(source.NodeGroups![0].PrimaryEndpoint, { tls: {} });
  const pipeline = primary.pipeline();
  for (let i = 0; i < 5_000; i++) pipeline.set(`order:${i}`, `value-${i}`);
  await pipeline.exec();
  expect(await primary.wait(1, 10_000)).toBe(1);

  // The snapshot is taken from the replica (BGSAVE through the provider's own TLS client).
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'secure-source', SnapshotName: 'secure-1' }));
  const snapshot = await snapshotAvailable(ec, 'secure-1');
  expect(snapshot.NodeSnapshots![0].CacheClusterId).toBe('secure-source-002');

  const grant = `id="${ELASTICACHE_CANONICAL_ID}"`;
  await s3.send(new CreateBucketCommand({ Bucket: 'secure-exports', CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'secure-exports', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
  await s3.send(new PutBucketAclCommand({ Bucket: 'secure-exports', GrantRead: grant, GrantWrite: grant, GrantReadACP: grant, GrantWriteACP: grant }));
  // ElastiCache reads the seed object through the bucket policy (as in the recovery region's bucket).
  await s3.send(new PutBucketPolicyCommand({
    Bucket: 'secure-exports',
    Policy: JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { Service: `${REGION}.elasticache-snapshot.amazonaws.com` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::secure-exports/*' }],
    }),
  }));
  await ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'secure-1', TargetSnapshotName: 'secure-1', TargetBucket: 'secure-exports' }));
  const head = await until('the exported RDB', async () => s3.send(new HeadObjectCommand({ Bucket: 'secure-exports', Key: 'secure-1-0001.rdb' })).catch(() => undefined));
  expect(head.ContentLength).toBeGreaterThan(50_000);

  // Seeded from the exported RDB into a new TLS group, and from the snapshot into a plain one.
  const fromS3 = await create('secure-seeded', {
    NumCacheClusters: 2, AutomaticFailoverEnabled: true, TransitEncryptionEnabled: true, SnapshotArns: ['arn:aws:s3:::secure-exports/secure-1-0001.rdb'],
  });
  const seeded = redis(fromS3.NodeGroups![0].PrimaryEndpoint, { tls: {} });
  expect(await seeded.dbsize()).toBe(5_000);
  expect(await seeded.get('order:4999')).toBe('value-4999');
  const fromSnapshot = await create('plain-seeded', { NumCacheClusters: 1, SnapshotName: 'secure-1' });
  const plain = redis(fromSnapshot.NodeGroups![0].PrimaryEndpoint);
  expect(await plain.dbsize()).toBe(5_000);
});
