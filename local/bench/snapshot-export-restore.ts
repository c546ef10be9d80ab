/**
 * Benchmark (not a test): how much the local provider's engine adds to the raw Redis work of a
 * backup and restore.
 *
 *   engine: CreateSnapshot -> available, CopySnapshot to S3 -> object present, CreateReplicationGroup
 *           seeded from the object -> available, all through the real SDK clients over HTTP, with the
 *           simulated durations set to zero so only real work is timed
 *   raw:    BGSAVE on a plain redis-server, then a new redis-server loading that RDB
 *
 * Both hold the same data: KEYS (default 1,000,000) small string keys. Run: `npx projen bench`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, HeadObjectCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { until } from '../poll';
import { LocalProvider } from '../provider';
import { RedisServer } from '../redis/server';
import { groupAvailable, snapshotAvailable } from '../waiters';

const KEYS = Number(process.env.KEYS ?? 1_000_000);
const REGION = 'af-south-1';
// Polled often, so that waiting adds little to the times measured.
const POLL_MS = 5;
const NO_TIMEOUT = 10 * 60_000;

async function fill(client: Redis): Promise<void> {
  for (let i = 0; i < KEYS; i += 50_000) {
    const pipeline = client.pipeline();
    for (let j = i; j < Math.min(KEYS, i + 50_000); j++) pipeline.set(`key:${j}`, `value:${j}`);
    await pipeline.exec();
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - start) / 1e6, result];
}

async function raw(): Promise<{ save: number; load: number; size: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raw-'));
  const source = await RedisServer.start({ dir: path.join(dir, 'a') });
  try {
    const client = source.client();
    await fill(client);
    source.release(client);
    const [save, file] = await timed(() => source.bgsave());
    const size = fs.statSync(file).size;
    fs.mkdirSync(path.join(dir, 'b'));
    fs.copyFileSync(file, path.join(dir, 'b', 'dump.rdb'));
    const [load, target] = await timed(() => RedisServer.start({ dir: path.join(dir, 'b') }));
    const check = target.client();
    if ((await check.dbsize()) !== KEYS) throw new Error('raw restore lost keys');
    await target.stop();
    return { save, load, size };
  } finally {
    await source.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function engine(): Promise<{ snapshot: number; exportMs: number; restore: number }> {
  const provider = await LocalProvider.start({
    speed: 1,
    timings: { createGroup: 0, snapshot: 0, copySnapshot: 0, exportSnapshot: 0, deleteGroup: 0 },
  });
  const credentials = { accessKeyId: 'a', secretAccessKey: 's' };
  const ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials });
  const s3 = new S3Client({ region: REGION, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench', CreateBucketConfiguration: { LocationConstraint: REGION } }));
    await s3.send(new PutBucketPolicyCommand({
      Bucket: 'bench',
      Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: `${REGION}.elasticache-snapshot.amazonaws.com` }, Action: 's3:*', Resource: '*' }] }),
    }));
    const available = (id: string) => groupAvailable(ec, id, NO_TIMEOUT, POLL_MS);
    const snapshotReady = (name: string) => snapshotAvailable(ec, name, NO_TIMEOUT, POLL_MS);

    await ec.send(new CreateReplicationGroupCommand({ ReplicationGroupId: 'bench', ReplicationGroupDescription: 'bench', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1 }));
    const group = await available('bench');
    const client = new Redis({ host: group.NodeGroups![0].PrimaryEndpoint!.Address, port: group.NodeGroups![0].PrimaryEndpoint!.Port });
    await fill(client);
    client.disconnect();

    const [snapshot] = await timed(async () => {
      await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'bench', SnapshotName: 'bench-1' }));
      await snapshotReady('bench-1');
    });
    const [exportMs] = await timed(async () => {
      await ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'bench-1', TargetSnapshotName: 'bench-1', TargetBucket: 'bench' }));
      await until('export', () => s3.send(new HeadObjectCommand({ Bucket: 'bench', Key: 'bench-1-0001.rdb' })).catch(() => undefined), NO_TIMEOUT, POLL_MS);
    });
    const [restore, restored] = await timed(async () => {
      await ec.send(new CreateReplicationGroupCommand({
        ReplicationGroupId: 'bench-restored',
        ReplicationGroupDescription: 'bench',
        CacheNodeType: 'cache.r7g.large',
        NumCacheClusters: 1,
        SnapshotArns: ['arn:aws:s3:::bench/bench-1-0001.rdb'],
      }));
      return available('bench-restored');
    });
    const check = new Redis({ host: restored.NodeGroups![0].PrimaryEndpoint!.Address, port: restored.NodeGroups![0].PrimaryEndpoint!.Port });
    const keys = await check.dbsize();
    check.disconnect();
    if (keys !== KEYS) throw new Error(`engine restore has ${keys} keys, expected ${KEYS}`);
    return { snapshot, exportMs, restore };
  } finally {
    ec.destroy();
    s3.destroy();
    await provider.stop();
  }
}

const ROUNDS = Number(process.env.ROUNDS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const raws = [];
  const engines = [];
  // Alternate the two so that the machine's other load falls on both alike; report medians.
  for (let i = 0; i < ROUNDS; i++) {
    raws.push(await raw());
    engines.push(await engine());
  }
  const r = { save: median(raws.map((x) => x.save)), load: median(raws.map((x) => x.load)), size: raws[0].size };
  const e = {
    snapshot: median(engines.map((x) => x.snapshot)),
    exportMs: median(engines.map((x) => x.exportMs)),
    restore: median(engines.map((x) => x.restore)),
  };
  const rawTotal = r.save + r.load;
  const engineTotal = e.snapshot + e.exportMs + e.restore;
  const ms = (n: number) => `${n.toFixed(0).padStart(7)} ms`;
  const version = /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1];
  console.log(`median of ${ROUNDS} rounds; ${KEYS.toLocaleString('en-US')} keys, RDB ${(r.size / 1024 / 1024).toFixed(1)} MB, redis-server ${version}, node ${process.version}`);
  console.log(`raw     BGSAVE ${ms(r.save)}   load ${ms(r.load)}                      total ${ms(rawTotal)}`);
  console.log(`engine  snapshot ${ms(e.snapshot)}   export ${ms(e.exportMs)}   restore ${ms(e.restore)}   total ${ms(engineTotal)}`);
  console.log(`engine / raw = ${(engineTotal / rawTotal).toFixed(2)} (overhead ${(((engineTotal / rawTotal) - 1) * 100).toFixed(0)}%; target under 30%)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
