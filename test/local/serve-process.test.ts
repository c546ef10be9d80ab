/**
 * `cdk-elasticache-backup serve` as a process, and what happens to it when it dies: its nodes go
 * with it (kill -9, OOM kill), the next serve removes what a killed one left, two providers never
 * share a data folder, and a detached provider's reason for dying lands in its log.
 *
 * Each test gives serve a TMPDIR of its own, so the folders it makes and sweeps are the test's only.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateReplicationGroupCommand, DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'cdk-elasticache-backup.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'local', 'cli.js'))) {
    throw new Error('lib/local/cli.js is not built: run `npx projen bundle:local` (or `npx projen compile`) first');
  }
});

/** Running and not a zombie (a killed provider's orphans are reaped by init, maybe late). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pids: number[], ms = 5_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await sleep(25);
  return pids.filter(alive);
}

/** The PIDs of redis-server processes whose parent is `pid`. */
function redisChildren(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf-8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid && fs.readFileSync(`/proc/${p}/cmdline`, 'utf-8').startsWith('redis-server');
    } catch {
      return false;
    }
  });
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

/** Everything a test started, stopped by PID at its end whatever happened. */
const started: number[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await sleep(50);
  for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-process-test-'));
  folders.push(dir);
  return dir;
}

interface Serve {
  child: ChildProcess;
  env: Record<string, string>;
  stderr: () => string;
  done: Promise<number | null>;
  dataDir: string;
}

async function serve(tmpdir: string, ...args: string[]): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', '--speed', '6000', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: tmpdir },
  });
  started.push(child.pid!);
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let err = '';
  child.stderr!.on('data', (c) => { err += c; });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('CDK_ELASTICACHE_LOCAL_PID=')) resolve();
    });
    void done.then((code) => reject(new Error(`serve exited early (code ${code}): ${err}`)));
  });
  await new Promise<void>((resolve) => {
    const check = () => (/data in (\S+)\)/.test(err) ? resolve() : setTimeout(check, 10));
    check();
  });
  return { child, env: parseEnv(out), stderr: () => err, done, dataDir: /data in (\S+)\)/.exec(err)![1] };
}

/** Creates a group of two nodes and returns the PIDs of its redis-servers. */
async function group(endpoint: string, providerPid: number, id = 'g'): Promise<number[]> {
  const ec = new ElastiCacheClient({ region: 'eu-west-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  try {
    await ec.send(new CreateReplicationGroupCommand({ ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.r7g.large', NumCacheClusters: 2 }));
    for (;;) {
      const g = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
      if (g.Status === 'available') break;
      await sleep(20);
    }
  } finally {
    ec.destroy();
  }
  const nodes = redisChildren(providerPid);
  started.push(...nodes);
  expect(nodes).toHaveLength(2);
  return nodes;
}

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as any).code) : 0, stdout, stderr });
    });
  });
}

test('kill -9 of serve takes its redis-servers with it, and the next serve removes the folder it left', async () => {
  const dir = tmp();
  const first = await serve(dir);
  const nodes = await group(first.env.AWS_ENDPOINT_URL_ELASTICACHE, first.child.pid!);
  expect(fs.existsSync(first.dataDir)).toBe(true);

  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  await first.done;
  expect(await gone(nodes)).toEqual([]);
  // Measured: the nodes are gone within a few milliseconds of the provider's death.
  expect(Date.now() - killedAt).toBeLessThan(2_000);
  expect(fs.existsSync(first.dataDir)).toBe(true);

  const second = await serve(dir);
  expect(fs.existsSync(first.dataDir)).toBe(false);
  expect(second.stderr()).toContain(`removed ${first.dataDir}, left by the local provider with PID ${first.child.pid}, which is no longer running\n`);
  second.child.kill('SIGTERM');
  expect(await second.done).toBe(0);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('the next serve stops the redis-servers a dead provider left running in its folder', async () => {
  const dir = tmp();
  // What a provider killed on a system without a parent-death signal leaves: a locked folder whose
  // owner is dead and a node still serving from inside it.
  const dead = spawn('true');
  await new Promise((r) => dead.once('exit', r));
  const stale = path.join(dir, 'elasticache-local-stale');
  const nodeDir = path.join(stale, 'eu-west-1', 'elasticache', 'nodes', 'g-001');
  fs.mkdirSync(nodeDir, { recursive: true });
  fs.writeFileSync(path.join(stale, 'provider.lock'), JSON.stringify({ pid: dead.pid }));
  const orphan = spawn('redis-server', ['--port', '0', '--unixsocket', path.join(nodeDir, 'redis.sock'), '--dir', nodeDir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore', detached: true });
  started.push(orphan.pid!);
  await sleep(200);
  expect(alive(orphan.pid!)).toBe(true);

  const next = await serve(dir);
  expect(await gone([orphan.pid!], 2_000)).toEqual([]);
  expect(fs.existsSync(stale)).toBe(false);
  expect(next.stderr()).toContain(`stopped redis-server ${orphan.pid}, left running in ${stale} by the local provider with PID ${dead.pid}\n`);
  next.child.kill('SIGTERM');
  expect(await next.done).toBe(0);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('a data folder in use is refused, and taken over once its provider is dead', async () => {
  const dir = tmp();
  const data = path.join(dir, 'data');
  const first = await serve(dir, '--data-dir', data);
  const lock = path.join(data, 'provider.lock');
  expect(JSON.parse(fs.readFileSync(lock, 'utf-8')).pid).toBe(first.child.pid);

  expect(await run(['serve', '--data-dir', data], { TMPDIR: dir })).toEqual({
    code: 1,
    stdout: '',
    stderr: `cdk-elasticache-backup serve: --data-dir ${data} is in use by the local provider with PID ${first.child.pid} (${lock}): `
      + `two providers in one folder would overwrite each other's nodes and objects; stop it (kill ${first.child.pid}) or choose another folder\n`,
  });
  expect(alive(first.child.pid!)).toBe(true);

  first.child.kill('SIGKILL');
  await first.done;
  const second = await serve(dir, '--data-dir', data);
  expect(second.stderr()).toContain(`took over --data-dir ${data} from the local provider with PID ${first.child.pid}, which is no longer running\n`);
  expect(JSON.parse(fs.readFileSync(lock, 'utf-8')).pid).toBe(second.child.pid);
  second.child.kill('SIGTERM');
  expect(await second.done).toBe(0);
  // A folder given with --data-dir is the user's: kept, but no longer locked.
  expect(fs.existsSync(data)).toBe(true);
  expect(fs.existsSync(lock)).toBe(false);
});

test('in-process providers lock their data folder too', async () => {
  const data = path.join(tmp(), 'data');
  const provider = await LocalProvider.start({ dataDir: data });
  try {
    await expect(LocalProvider.start({ dataDir: data })).rejects.toThrow(
      `data folder ${data} is in use by the local provider with PID ${process.pid} (${path.join(data, 'provider.lock')}): `
      + 'two providers in one folder would overwrite each other\'s nodes and objects; stop it or choose another folder',
    );
  } finally {
    await provider.stop();
  }
  const again = await LocalProvider.start({ dataDir: data });
  await again.stop();
});

test('serve --detach prints its log file; a crash\'s reason lands there and the log is kept', async () => {
  const dir = tmp();
  // A crash injected from outside the product: an exception thrown in the provider's process.
  const crash = path.join(dir, 'crash.js');
  fs.writeFileSync(crash, "process.on('SIGUSR2', () => { throw new Error('injected crash for the test'); });\n");
  const result = await run(['serve', '--detach', '--speed', '6000'], { TMPDIR: dir, NODE_OPTIONS: `--require ${crash}` });
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const env = parseEnv(result.stdout);
  const pid = Number(env.CDK_ELASTICACHE_LOCAL_PID);
  started.push(pid);
  expect(Object.keys(env)).toEqual([
    'AWS_ENDPOINT_URL_ELASTICACHE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_ROUTE_53', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION',
    'CDK_ELASTICACHE_LOCAL_PID', 'CDK_ELASTICACHE_LOCAL_LOG',
  ]);
  const log = env.CDK_ELASTICACHE_LOCAL_LOG;
  const dataDir = path.dirname(log);
  expect(path.dirname(dataDir)).toBe(dir);
  expect(path.basename(log)).toBe('serve.log');
  expect(fs.readFileSync(log, 'utf-8')).toContain(`local provider ready at ${env.AWS_ENDPOINT_URL_ELASTICACHE} (data in ${dataDir})`);

  const nodes = await group(env.AWS_ENDPOINT_URL_ELASTICACHE, pid);
  process.kill(pid, 'SIGUSR2');
  expect(await gone([pid], 10_000)).toEqual([]);
  expect(await gone(nodes)).toEqual([]);
  const text = fs.readFileSync(log, 'utf-8');
  expect(text).toContain('Error: injected crash for the test\n');
  expect(text).toContain(`local provider stopped after a crash; this log is kept: ${log}\n`);
  // The nodes' data is removed; only the log stays.
  expect(fs.readdirSync(dataDir)).toEqual(['serve.log']);
});

test('serve --detach that cannot start says why', async () => {
  const dir = tmp();
  const data = path.join(dir, 'data');
  const first = await run(['serve', '--detach', '--data-dir', data], { TMPDIR: dir });
  const pid = Number(parseEnv(first.stdout).CDK_ELASTICACHE_LOCAL_PID);
  started.push(pid);
  expect(parseEnv(first.stdout).CDK_ELASTICACHE_LOCAL_LOG).toBe(path.join(data, 'serve.log'));

  const log = path.join(data, 'serve.log');
  const second = await run(['serve', '--detach', '--data-dir', data], { TMPDIR: dir });
  expect(second).toEqual({
    code: 1,
    stdout: '',
    stderr: `cdk-elasticache-backup serve: the local provider exited before it was ready (code 1); its log (${log}) says:\n`
      + `cdk-elasticache-backup serve: --data-dir ${data} is in use by the local provider with PID ${pid} (${path.join(data, 'provider.lock')}): `
      + `two providers in one folder would overwrite each other's nodes and objects; stop it (kill ${pid}) or choose another folder\n`,
  });
  process.kill(pid, 'SIGTERM');
  expect(await gone([pid])).toEqual([]);
});
