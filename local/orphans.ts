/**
 * Nodes must not outlive the local provider, and what a killed provider left must not stay.
 *
 * 1. Parent-death signal. Each redis-server is started through util-linux's `setpriv
 *    --pdeathsig SIGTERM`, which sets PR_SET_PDEATHSIG (prctl(2)) and then execs redis-server in
 *    the same process: when the provider dies by any means (kill -9, the OOM killer, a crash), the
 *    kernel sends every node SIGTERM, and redis-server exits (stopping a BGSAVE child it has). The
 *    node keeps its PID and stays the provider's child, so stopping and killing a node by PID work
 *    as before. Measured here: a node is gone ~30 ms after its provider's kill -9; starting through
 *    setpriv adds no measurable time (median 10-11 ms to accept connections either way, 20 starts).
 *    Chosen over a supervisor process per node (a minimal Node.js one holds 42 MB of memory, for a
 *    redis-server of 12 MB; a shell one needs signal forwarding and hides the node's PID) and
 *    over a reaper process watching the provider (one more process that can itself be killed, and
 *    it notices only by polling). Node.js has no prctl of its own. The signal follows the thread
 *    that forked the child: Node.js spawns from its main thread, which lives as long as the process.
 *    Where setpriv (or its --pdeathsig) is missing, as on macOS, nodes are started directly and
 *    only step 2 applies.
 * 2. Sweep. A provider locks its data folder (owner.ts). A new `serve` looks at the temporary data
 *    folders (`$TMPDIR/elasticache-local-*`) whose lock names a dead provider, stops any process
 *    still running inside them (a node that escaped step 1: started in the instant between fork and
 *    prctl, or on a system without setpriv) and removes them. Folders without a lock (made by an
 *    older version, or a provider that had not started yet) are left alone.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { alive, LOCK_NAME, readOwner } from './owner';

/** The prefix of the temporary data folders providers make. */
export const TEMP_PREFIX = 'elasticache-local-';

let setpriv: boolean | undefined;

/** Whether `setpriv --pdeathsig` can be used here (checked once). */
export function parentDeathSignalAvailable(): boolean {
  if (setpriv === undefined) {
    const probe = spawnSync('setpriv', ['--help'], { encoding: 'utf-8' });
    setpriv = probe.status === 0 && probe.stdout.includes('--pdeathsig');
  }
  return setpriv;
}

/**
 * The command and arguments that start `binary args` so that it gets SIGTERM when this process
 * dies (see 1. above), or the command unchanged where that is not available.
 */
export function withParentDeathSignal(binary: string, args: string[]): [string, string[]] {
  return parentDeathSignalAvailable() ? ['setpriv', ['--pdeathsig', 'SIGTERM', '--', binary, ...args]] : [binary, args];
}

/**
 * PIDs of the redis processes (redis-server and its BGSAVE children) whose working directory is
 * `dir` or inside it: redis-server changes into its --dir. Other processes (a shell someone left
 * in the folder) are not counted.
 */
export function redisProcessesIn(dir: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const root = path.resolve(dir);
  return entries.filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    if (pid === process.pid) return false;
    try {
      if (!fs.readFileSync(`/proc/${pid}/comm`, 'utf-8').startsWith('redis')) return false;
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      return cwd === root || cwd.startsWith(root + path.sep);
    } catch {
      return false;
    }
  });
}

/** Kills (SIGKILL: their data is discarded) the redis processes running inside `dir`; returns their PIDs. */
export function killRedisIn(dir: string): number[] {
  const pids = redisProcessesIn(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** What a sweep did, one line each, for the provider's log. */
export interface SweepReport {
  readonly removed: string[];
  readonly messages: string[];
}

/**
 * Removes the temporary data folders in `tmpdir` left by providers that are no longer running,
 * after killing what still runs inside them.
 */
export function sweepStaleDataDirs(tmpdir: string): SweepReport {
  const removed: string[] = [];
  const messages: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(tmpdir).filter((n) => n.startsWith(TEMP_PREFIX));
  } catch {
    return { removed, messages };
  }
  for (const name of names) {
    const dir = path.join(tmpdir, name);
    const owner = readOwner(path.join(dir, LOCK_NAME));
    if (!owner || alive(owner)) continue;
    for (const pid of killRedisIn(dir)) {
      messages.push(`stopped redis-server ${pid}, left running in ${dir} by the local provider with PID ${owner.pid}`);
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
      messages.push(`removed ${dir}, left by the local provider with PID ${owner.pid}, which is no longer running`);
    } catch (e) {
      messages.push(`could not remove ${dir}, left by the local provider with PID ${owner.pid}: ${(e as Error).message}`);
    }
  }
  return { removed, messages };
}
