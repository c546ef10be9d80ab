/**
 * The package's command, `cdk-elasticache-backup serve`, run as a user runs it: the bin script over
 * the bundled lib/local/cli.js.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CreateReplicationGroupCommand, DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'cdk-elasticache-backup.js');

beforeAll(() => {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'local', 'cli.js'))) {
    throw new Error('lib/local/cli.js is not built: run `npx projen compile` (or the whole `npx projen build`) first');
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

async function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
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

test('serve prints the variables SDK clients need, serves them, and stops everything on SIGTERM', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', '--speed', '6000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(child);
  let err = '';
  child.stderr!.on('data', (c) => { err += c; });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.includes('CDK_ELASTICACHE_LOCAL_PID=')) resolve();
    });
    child.once('exit', () => reject(new Error(`serve exited early: ${out}`)));
  });
  const env = parseEnv(out);
  expect(Object.keys(env)).toEqual([
    'AWS_ENDPOINT_URL_ELASTICACHE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_ROUTE_53', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION',
    'CDK_ELASTICACHE_LOCAL_PID',
  ]);
  expect(env.AWS_ENDPOINT_URL_ELASTICACHE).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(Number(env.CDK_ELASTICACHE_LOCAL_PID)).toBe(child.pid);

  const ec = new ElastiCacheClient({ region: 'eu-west-1', endpoint: env.AWS_ENDPOINT_URL_ELASTICACHE, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  await ec.send(new CreateReplicationGroupCommand({ ReplicationGroupId: 'cli', ReplicationGroupDescription: 'cli', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 2 }));
  for (;;) {
    const g = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'cli' }))).ReplicationGroups![0];
    if (g.Status === 'available') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  ec.destroy();
  const nodes = redisChildren(child.pid!);
  expect(nodes).toHaveLength(2);
  const dataDir = /data in (\S+)\)/.exec(err)?.[1];
  expect(dataDir && fs.existsSync(dataDir)).toBe(true);

  child.kill('SIGTERM');
  expect(await done).toBe(0);
  expect(nodes.filter(alive)).toEqual([]);
  expect(fs.existsSync(dataDir!)).toBe(false);
});

test('serve --detach returns once ready, for export $(…), with its log file; the server stops on kill', async () => {
  const script = `export $(${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} serve --detach) && echo "$AWS_ENDPOINT_URL_S3 $CDK_ELASTICACHE_LOCAL_PID $CDK_ELASTICACHE_LOCAL_LOG"`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('bash', ['-c', script], { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  const [endpoint, pid, log] = out.trim().split(' ');
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(alive(Number(pid))).toBe(true);
  expect(fs.readFileSync(log, 'utf-8')).toMatch(/^local provider ready at /);
  process.kill(Number(pid), 'SIGTERM');
  for (let i = 0; i < 100 && alive(Number(pid)); i++) await new Promise((r) => setTimeout(r, 50));
  expect(alive(Number(pid))).toBe(false);
  // A clean stop removes the temporary data folder, log included.
  expect(fs.existsSync(path.dirname(log))).toBe(false);
});

test('bad input is named', async () => {
  const run = (...args: string[]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], (error, _stdout, stderr) => resolve({ code: error ? (error as any).code : 0, stderr }));
  });
  expect(await run('serve', '--speed', 'fast')).toEqual({ code: 1, stderr: 'cdk-elasticache-backup serve: --speed must be a positive number, got fast\n' });
  expect((await run('deploy')).stderr).toMatch(/^cdk-elasticache-backup: unknown command 'deploy'/);
});
