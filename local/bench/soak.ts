/**
 * Soak (not a test): `cdk-elasticache-backup serve` as a process under mixed load for a bounded
 * time, through the real SDK clients, with random aborted requests and killed nodes.
 *
 *   ElastiCache  create/describe/delete groups, snapshots, exports to S3 (CopySnapshot --target-bucket)
 *   S3           put/get/list, multipart uploads completed and aborted
 *   Route 53     UPSERT/DELETE changes and GetChange
 *   faults       requests aborted by the client (SDK abort signals, and raw uploads cut off mid-body)
 *                and redis-server nodes killed (SIGKILL by PID)
 *
 * It reports requests served, errors by code, the provider's RSS over time, and what is left after
 * it stops the provider with SIGTERM: processes (every redis-server it saw) and folders (serve runs
 * with a TMPDIR of the soak's own). Exits 1 when the provider died during the run or anything is
 * left. Only 127.0.0.1 is contacted.
 *
 * Run: `npx projen soak` (10 minutes), or `SOAK_SECONDS=120 npx projen soak`, or
 * `npx projen soak --seconds 120`. SOAK_WORKERS (default 6) sets the concurrency; SOAK_ABORTS=0
 * leaves out the aborted requests (to look at the rest while a crash on aborts is open).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DeleteReplicationGroupCommand,
  DeleteSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  GetObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { redisProcessesIn } from '../orphans';

function option(name: string, env: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new Error(`--${name} / ${env} must be a positive number, got ${raw}`);
  return value;
}

const SECONDS = option('seconds', 'SOAK_SECONDS', 600);
const WORKERS = option('workers', 'SOAK_WORKERS', 6);
const ABORTS = process.env.SOAK_ABORTS !== '0';
// An opt-in region, where ElastiCache reads and writes buckets through its regional service principal.
const REGION = 'af-south-1';
const BUCKET = 'soak';
const MAX_GROUPS = 3;
const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'cdk-elasticache-backup.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

// ---- what is counted

const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(0);
const counts = {
  served: 0, // answered by the provider (success or an error response)
  ok: 0,
  abortedByClient: 0,
  rawAborted: 0,
  nodesKilled: 0,
  unanswered: 0, // no HTTP answer: connection refused/reset, timeout
};
const errors = new Map<string, number>();
const byOperation = new Map<string, number>();
const rss: Array<{ t: number; rssMb: number; nodes: number; served: number }> = [];
const seenNodes = new Set<number>();
let providerExit: string | undefined;

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

async function call<T>(operation: string, work: (signal?: AbortSignal) => Promise<T>, abortable = false): Promise<T | undefined> {
  const controller = new AbortController();
  const abort = ABORTS && abortable && Math.random() < 0.05;
  if (abort) setTimeout(() => controller.abort(), Math.random() * 5);
  bump(byOperation, operation);
  try {
    const result = await work(abort ? controller.signal : undefined);
    counts.served++;
    counts.ok++;
    return result;
  } catch (e) {
    const error = e as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
    if (error.name === 'AbortError' || controller.signal.aborted) {
      counts.abortedByClient++;
    } else if (error.$metadata?.httpStatusCode !== undefined) {
      counts.served++;
      bump(errors, `${error.$metadata.httpStatusCode} ${error.name}`);
    } else {
      counts.unanswered++;
      bump(errors, `no answer: ${error.code ?? error.name}: ${error.message.slice(0, 80)}`);
    }
    return undefined;
  }
}

// ---- the provider as a process

interface Serve {
  child: ChildProcess;
  env: Record<string, string>;
  dataDir: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function startServe(tmpdir: string): Promise<Serve> {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'local', 'cli.js'))) {
    throw new Error('lib/local/cli.js is not built: run `npx projen bundle:local` first');
  }
  const child = spawn(process.execPath, [BIN, 'serve', '--speed', '6000'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmpdir } });
  let err = '';
  child.stderr!.on('data', (c) => { err = (err + c).slice(-20_000); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('CDK_ELASTICACHE_LOCAL_PID=')) resolve();
    });
    void exited.then((code) => reject(new Error(`serve exited early (code ${code}): ${err}`)));
  });
  const env = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
  const dataDir = /data in (\S+)\)/.exec(err)?.[1] ?? '';
  void exited.then((code) => {
    providerExit ??= `the provider exited (code ${code}) at ${elapsed()} s; its last words:\n${err.split('\n').slice(-15).join('\n')}`;
  });
  return { child, env, dataDir, stderr: () => err, exited };
}

function redisChildren(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf-8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid && fs.readFileSync(`/proc/${p}/comm`, 'utf-8').startsWith('redis');
    } catch {
      return false;
    }
  });
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf-8'))![1]) / 1024;
  } catch {
    return NaN;
  }
}

// ---- the load

interface Clients {
  ec: ElastiCacheClient;
  s3: S3Client;
  r53: Route53Client;
  zoneId: string;
  endpoint: string;
}

let groupSeq = 0;
let snapSeq = 0;
let objSeq = 0;
let lastKill = 0;

async function elastiCacheOp(c: Clients): Promise<void> {
  const groups = (await call('DescribeReplicationGroups', (abortSignal) => c.ec.send(new DescribeReplicationGroupsCommand({}), { abortSignal }), true))?.ReplicationGroups ?? [];
  const available = groups.filter((g) => g.Status === 'available');
  const r = Math.random();
  if (r < 0.25 && groups.length < MAX_GROUPS) {
    const id = `soak-${++groupSeq}`;
    await call('CreateReplicationGroup', () => c.ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: id, ReplicationGroupDescription: 'soak', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1 + Math.floor(Math.random() * 2),
    })));
  } else if (r < 0.5 && available.length > 0) {
    await call('CreateSnapshot', () => c.ec.send(new CreateSnapshotCommand({ ReplicationGroupId: pick(available).ReplicationGroupId, SnapshotName: `soak-snap-${++snapSeq}` })));
  } else if (r < 0.7) {
    const snapshots = (await call('DescribeSnapshots', () => c.ec.send(new DescribeSnapshotsCommand({}))))?.Snapshots ?? [];
    const ready = snapshots.filter((s) => s.SnapshotStatus === 'available');
    if (ready.length === 0) return;
    const snapshot = pick(ready);
    if (Math.random() < 0.5) {
      await call('CopySnapshot (export)', () => c.ec.send(new CopySnapshotCommand({ SourceSnapshotName: snapshot.SnapshotName, TargetSnapshotName: `${snapshot.SnapshotName}-x${++snapSeq}`, TargetBucket: BUCKET })));
    } else {
      await call('DeleteSnapshot', () => c.ec.send(new DeleteSnapshotCommand({ SnapshotName: snapshot.SnapshotName })));
    }
  } else if (r < 0.8 && groups.length >= 2) {
    await call('DeleteReplicationGroup', () => c.ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: pick(groups).ReplicationGroupId })));
  }
}

async function s3Op(c: Clients): Promise<void> {
  const r = Math.random();
  if (r < 0.35) {
    const body = Buffer.alloc(Math.floor(Math.random() * 256 * 1024), 'x');
    await call('PutObject', (abortSignal) => c.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `obj/${++objSeq}`, Body: body }), { abortSignal }), true);
  } else if (r < 0.6) {
    const out = await call('ListObjectsV2', (abortSignal) => c.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'obj/', MaxKeys: 50 }), { abortSignal }), true);
    const keys = (out?.Contents ?? []).map((o) => o.Key!);
    if (keys.length > 0) {
      await call('GetObject', async (abortSignal) => {
        const got = await c.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: pick(keys) }), { abortSignal });
        return got.Body?.transformToByteArray();
      }, true);
    }
  } else {
    const key = `mpu/${++objSeq}`;
    const upload = await call('CreateMultipartUpload', () => c.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key })));
    if (!upload?.UploadId) return;
    const part = await call('UploadPart', (abortSignal) => c.s3.send(new UploadPartCommand({
      Bucket: BUCKET, Key: key, UploadId: upload.UploadId, PartNumber: 1, Body: Buffer.alloc(64 * 1024, 'p'),
    }), { abortSignal }), true);
    if (part?.ETag && Math.random() < 0.5) {
      await call('CompleteMultipartUpload', () => c.s3.send(new CompleteMultipartUploadCommand({
        Bucket: BUCKET, Key: key, UploadId: upload.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      })));
    } else {
      await call('AbortMultipartUpload', () => c.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: upload.UploadId })));
    }
  }
}

async function route53Op(c: Clients): Promise<void> {
  const name = `n${Math.floor(Math.random() * 20)}.soak.example.com`;
  const action = Math.random() < 0.8 ? 'UPSERT' : 'DELETE';
  const record = { Name: name, Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: `127.0.0.${1 + Math.floor(Math.random() * 250)}` }] };
  const out = await call('ChangeResourceRecordSets', () => c.r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: c.zoneId, ChangeBatch: { Changes: [{ Action: action, ResourceRecordSet: record }] },
  })));
  if (out?.ChangeInfo?.Id) await call('GetChange', () => c.r53.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id })));
}

/** An S3 PUT whose client goes away mid-body, as an aborted `aws s3 cp` does. */
async function rawAbort(c: Clients): Promise<void> {
  counts.rawAborted++;
  bump(byOperation, 'raw PUT cut off mid-body');
  const url = new URL(c.endpoint);
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: 'PUT',
      path: `/${BUCKET}/raw/${++objSeq}`,
      headers: {
        'content-length': '1000000',
        'authorization': `AWS4-HMAC-SHA256 Credential=local/20260101/${REGION}/s3/aws4_request, SignedHeaders=host, Signature=00`,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(Buffer.alloc(1000, 'r'));
    setTimeout(() => req.destroy(), Math.random() * 20);
  });
}

function killNode(pid: number): void {
  const nodes = redisChildren(pid);
  if (nodes.length === 0 || Date.now() - lastKill < 3_000) return;
  lastKill = Date.now();
  try {
    process.kill(pick(nodes), 'SIGKILL');
    counts.nodesKilled++;
  } catch {
    // gone already
  }
}

async function worker(c: Clients, providerPid: number, deadline: number): Promise<void> {
  while (Date.now() < deadline && providerExit === undefined) {
    const r = Math.random();
    if (r < 0.35) await elastiCacheOp(c);
    else if (r < 0.75) await s3Op(c);
    else if (r < 0.93) await route53Op(c);
    else if (r < 0.97 && ABORTS) await rawAbort(c);
    else killNode(providerPid);
    await sleep(Math.random() * 20);
  }
}

async function main(): Promise<void> {
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  const serve = await startServe(tmpdir);
  const pid = serve.child.pid!;
  console.log(`soak: ${SECONDS} s, ${WORKERS} workers, aborted requests ${ABORTS ? 'on' : 'off'}; serve PID ${pid}, data in ${serve.dataDir}`);
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const requestHandler = { requestTimeout: 15_000, connectionTimeout: 5_000 };
  const endpoint = serve.env.AWS_ENDPOINT_URL_ELASTICACHE;
  const c: Clients = {
    ec: new ElastiCacheClient({ region: REGION, endpoint, credentials, requestHandler, maxAttempts: 1 }),
    s3: new S3Client({ region: REGION, endpoint: serve.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, credentials, requestHandler, maxAttempts: 1 }),
    r53: new Route53Client({ region: 'us-east-1', endpoint: serve.env.AWS_ENDPOINT_URL_ROUTE_53, credentials, requestHandler, maxAttempts: 1 }),
    zoneId: '',
    endpoint,
  };
  await c.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await c.s3.send(new PutBucketPolicyCommand({
    Bucket: BUCKET,
    Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: `${REGION}.elasticache-snapshot.amazonaws.com` }, Action: 's3:*', Resource: '*' }] }),
  }));
  c.zoneId = (await c.r53.send(new CreateHostedZoneCommand({ Name: 'soak.example.com', CallerReference: 'soak' }))).HostedZone!.Id!;

  const deadline = Date.now() + SECONDS * 1000;
  const sampleEvery = Math.max(2_000, (SECONDS * 1000) / 30);
  const sampler = setInterval(() => {
    const nodes = redisChildren(pid);
    nodes.forEach((n) => seenNodes.add(n));
    if (alive(pid)) rss.push({ t: Math.round((Date.now() - started) / 1000), rssMb: rssMb(pid), nodes: nodes.length, served: counts.served });
  }, 500);
  let lastPrint = 0;
  const printer = setInterval(() => {
    const last = rss[rss.length - 1];
    if (last && last.t * 1000 - lastPrint >= sampleEvery) {
      lastPrint = last.t * 1000;
      console.log(`  t=${last.t}s rss=${last.rssMb.toFixed(1)}MB nodes=${last.nodes} served=${last.served}`);
    }
  }, 500);
  await Promise.all(Array.from({ length: WORKERS }, () => worker(c, pid, deadline)));
  clearInterval(sampler);
  clearInterval(printer);
  c.ec.destroy();
  c.s3.destroy();
  c.r53.destroy();

  // Stop it as a user does, bounded; then look for what is left.
  const crashed = providerExit;
  redisChildren(pid).forEach((n) => seenNodes.add(n));
  if (alive(pid)) serve.child.kill('SIGTERM');
  const code = await Promise.race([serve.exited, sleep(40_000).then(() => 'still running after 40 s')]);
  await sleep(200);
  // Every node seen while sampling, and any redis process still running inside the soak's TMPDIR.
  const leftProcesses = [...new Set([...[...seenNodes].filter(alive), ...redisProcessesIn(tmpdir)])];
  const leftFolders = fs.readdirSync(tmpdir);

  console.log('\n== soak report ==');
  console.log(`duration ${elapsed()} s; requests served ${counts.served} (${(counts.served / SECONDS).toFixed(1)}/s), ok ${counts.ok}`);
  console.log(`aborted by the client: ${counts.abortedByClient} SDK calls, ${counts.rawAborted} raw uploads; nodes killed: ${counts.nodesKilled}; unanswered: ${counts.unanswered}`);
  console.log('requests by operation:');
  for (const [k, v] of [...byOperation].sort((a, b) => b[1] - a[1])) console.log(`  ${String(v).padStart(7)}  ${k}`);
  console.log('errors by status and code:');
  if (errors.size === 0) console.log('  none');
  for (const [k, v] of [...errors].sort((a, b) => b[1] - a[1])) console.log(`  ${String(v).padStart(7)}  ${k}`);
  const rssValues = rss.map((s) => s.rssMb).filter((x) => !Number.isNaN(x));
  if (rssValues.length > 0) {
    const step = Math.max(1, Math.floor(rss.length / 12));
    console.log(`provider RSS (MB) over time: ${rss.filter((_, i) => i % step === 0 || i === rss.length - 1).map((s) => `${s.t}s:${s.rssMb.toFixed(0)}`).join(' ')}`);
    console.log(`provider RSS min/max: ${Math.min(...rssValues).toFixed(1)} / ${Math.max(...rssValues).toFixed(1)} MB; redis-server nodes seen: ${seenNodes.size}`);
  }
  console.log(`provider ${crashed ? 'DIED DURING THE RUN: ' + crashed : `stopped on SIGTERM with code ${code}`}`);
  console.log(`left after stop: ${leftProcesses.length} processes${leftProcesses.length ? ` (${leftProcesses.join(', ')})` : ''}, ${leftFolders.length} folders${leftFolders.length ? ` (${leftFolders.join(', ')})` : ''}`);

  for (const p of leftProcesses) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (alive(pid)) serve.child.kill('SIGKILL');
  fs.rmSync(tmpdir, { recursive: true, force: true });
  process.exitCode = crashed || leftProcesses.length || leftFolders.length || code !== 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
