/**
 * `cdk-elasticache-backup serve` as a process, and what happens to it when it dies: its nodes go
 * with it (kill -9, OOM kill), the next serve removes what a killed one left, two providers never
 * share a data folder, and a detached provider's reason for dying lands in its log.
 *
 * Each test gives serve a TMPDIR of its own, so the folders it makes and sweeps are the test's only.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createGroupOfTwo, gone, kill, parseEnv, redisChildren, requireBuiltCli, runCli, running, Serve, sleep, startServe, terminate } from './serve';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(60_000);

beforeAll(requireBuiltCli);

/** Everything a test started, stopped by PID at its end whatever happened. */
const started: number[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) kill(pid);
  await sleep(50);
  for (const dir of folders.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-process-test-'));
  folders.push(dir);
  return dir;
}

/** serve at speed 6000 with its own TMPDIR. */
async function serve(tmpdir: string, ...args: string[]): Promise<Serve> {
  const s = await startServe(['--speed', '6000', ...args], { TMPDIR: tmpdir });
  started.push(s.child.pid!);
  return s;
}

/** Creates a group of two nodes and returns the PIDs of its redis-servers. */
async function group(endpoint: string, providerPid: number, id = 'g'): Promise<number[]> {
  await createGroupOfTwo(endpoint, id);
  const nodes = redisChildren(providerPid);
  started.push(...nodes);
  expect(nodes).toHaveLength(2);
  return nodes;
}

test('kill -9 of serve takes its redis-servers with it, and the next serve removes the folder it left', async () => {
  const dir = tmp();
  const first = await serve(dir);
  const nodes = await group(first.env.AWS_ENDPOINT_URL_ELASTICACHE, first.child.pid!);
  expect(fs.existsSync(first.dataDir)).toBe(true);

  const killedAt = Date.now();
  first.child.kill('SIGKILL');
  await first.exited;
  expect(await gone(nodes)).toEqual([]);
  // Measured: the nodes are gone within a few milliseconds of the provider's death.
  expect(Date.now() - killedAt).toBeLessThan(2_000);
  expect(fs.existsSync(first.dataDir)).toBe(true);

  const second = await serve(dir);
  expect(fs.existsSync(first.dataDir)).toBe(false);
  expect(second.stderr()).toContain(`removed ${first.dataDir}, left by the local provider with PID ${first.child.pid}, which is no longer running\n`);
  expect(await terminate(second)).toBe(0);
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
  expect(running(orphan.pid!)).toBe(true);

  const next = await serve(dir);
  expect(await gone([orphan.pid!], 2_000)).toEqual([]);
  expect(fs.existsSync(stale)).toBe(false);
  expect(next.stderr()).toContain(`stopped redis-server ${orphan.pid}, left running in ${stale} by the local provider with PID ${dead.pid}\n`);
  expect(await terminate(next)).toBe(0);
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('a data folder in use is refused, and taken over once its provider is dead', async () => {
  const dir = tmp();
  const data = path.join(dir, 'data');
  const first = await serve(dir, '--data-dir', data);
  const lock = path.join(data, 'provider.lock');
  expect(JSON.parse(fs.readFileSync(lock, 'utf-8')).pid).toBe(first.child.pid);

  expect(await runCli(['serve', '--data-dir', data], { TMPDIR: dir })).toEqual({
    code: 1,
    stdout: '',
    stderr: `cdk-elasticache-backup serve: --data-dir ${data} is in use by the local provider with PID ${first.child.pid} (${lock}): `
      + `two providers in one folder would overwrite each other's nodes and objects; stop it (kill ${first.child.pid}) or choose another folder\n`,
  });
  expect(running(first.child.pid!)).toBe(true);

  first.child.kill('SIGKILL');
  await first.exited;
  const second = await serve(dir, '--data-dir', data);
  expect(second.stderr()).toContain(`took over --data-dir ${data} from the local provider with PID ${first.child.pid}, which is no longer running\n`);
  expect(JSON.parse(fs.readFileSync(lock, 'utf-8')).pid).toBe(second.child.pid);
  expect(await terminate(second)).toBe(0);
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
  const result = await runCli(['serve', '--detach', '--speed', '6000'], { TMPDIR: dir, NODE_OPTIONS: `--require ${crash}` });
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const env = parseEnv(result.stdout);
  const pid = Number(env.CDK_ELASTICACHE_LOCAL_PID);
  started.push(pid);
  expect(Object.keys(env)).toEqual([
    'AWS_ENDPOINT_URL_ELASTICACHE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_ROUTE_53', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_EC2', 'AWS_ENDPOINT_URL_SSM',
    'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_SNS', 'AWS_ENDPOINT_URL_CLOUDWATCH', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SFN',
    'AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION', 'CDK_DISABLE_CLI_TELEMETRY',
    'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION',
    'CDK_ELASTICACHE_BACKUP_DNS', 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'CDK_ELASTICACHE_LOCAL_PID', 'CDK_ELASTICACHE_LOCAL_LOG',
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
  const first = await runCli(['serve', '--detach', '--data-dir', data], { TMPDIR: dir });
  const pid = Number(parseEnv(first.stdout).CDK_ELASTICACHE_LOCAL_PID);
  started.push(pid);
  expect(parseEnv(first.stdout).CDK_ELASTICACHE_LOCAL_LOG).toBe(path.join(data, 'serve.log'));

  const log = path.join(data, 'serve.log');
  const second = await runCli(['serve', '--detach', '--data-dir', data], { TMPDIR: dir });
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
