/**
 * `cdk-elasticache-backup serve` as a process, for the tests that run it as a user does: the bin
 * script over the bundled lib/local/cli.js (`npx projen bundle:local` or `npx projen compile`
 * builds it). Starting it, reading what it prints, stopping it, and the processes it runs.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { createGroup } from './groups';
import { until } from '../../local/poll';
import { useLocalDns } from '../../local/resolve';

const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'cdk-elasticache-backup.js');

/** For beforeAll: fails the file at once, saying how to build it, when lib/local/cli.js is missing. */
export function requireBuiltCli(): void {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'local', 'cli.js'))) {
    throw new Error('lib/local/cli.js is not built: run `npx projen bundle:local` (or `npx projen compile`) first');
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The NAME=value lines serve prints, as an object in the order printed. */
export function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

export interface Serve {
  readonly child: ChildProcess;
  /** What serve printed on stdout: the variables SDK clients need, and CDK_ELASTICACHE_LOCAL_PID. */
  readonly env: Record<string, string>;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** The folder it keeps its nodes and objects in, from its "ready" line. */
  readonly dataDir: string;
  /** All it has written to stderr so far. */
  stderr(): string;
}

/**
 * Starts `serve` with `args` (`env` added to this process's environment) and resolves once it has
 * printed its variables and its "ready" line; rejects if it exits before (or kills it and rejects
 * when the ready line does not come within 5 s).
 */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let err = '';
  child.stderr!.on('data', (c) => { err += c; });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('CDK_ELASTICACHE_LOCAL_PID=')) resolve();
      });
      void exited.then((code) => reject(new Error(`serve exited early (code ${code}): ${err}`)));
    });
    // The "ready" line goes to stderr, which may arrive after stdout.
    const dataDir = await until('serve\'s data folder', async () => /data in (\S+)\)/.exec(err)?.[1], 5_000, 10);
    const printed = parseEnv(out);
    // Clients in this process resolve the endpoint names through its DNS server while it runs, as
    // apps started with its variables do (its NODE_OPTIONS preload).
    if (printed.CDK_ELASTICACHE_BACKUP_DNS) void exited.then(useLocalDns(printed.CDK_ELASTICACHE_BACKUP_DNS));
    return { child, env: printed, exited, dataDir, stderr: () => err };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

/** Sends serve SIGTERM; resolves with its exit code. */
export function terminate(serve: Serve): Promise<number | null> {
  serve.child.kill('SIGTERM');
  return serve.exited;
}

/** Runs the command with `args` to its end (30 s at most), `env` added to this process's environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as any).code) : 0, stdout, stderr });
    });
  });
}

/** Signal 0 reaches it: running, or a zombie not yet reaped. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Running and not a zombie (a killed provider's orphans are reaped by init, maybe late). */
export function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits up to `ms` for the processes to end; returns those still there (by `isThere`). */
export async function gone(pids: number[], ms = 5_000, isThere: (pid: number) => boolean = running): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (pids.some(isThere) && Date.now() < deadline) await sleep(25);
  return pids.filter(isThere);
}

/** SIGKILL by PID; a process already gone is no error. */
export function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The PIDs of redis-server processes whose parent is `pid`, oldest first. */
export function redisChildren(pid: number): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf-8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === pid && fs.readFileSync(`/proc/${p}/cmdline`, 'utf-8').startsWith('redis-server');
    } catch {
      return false;
    }
  }).sort((a, b) => a - b);
}

/** Creates a group of two nodes through serve's ElastiCache endpoint and waits until it is available. */
export async function createGroupOfTwo(endpoint: string, id: string): Promise<void> {
  const ec = new ElastiCacheClient({ region: 'eu-west-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  try {
    await createGroup(ec, id, false);
  } finally {
    ec.destroy();
  }
}
