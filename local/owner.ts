/**
 * Who owns a data folder, and whether that owner still runs: the lock file one local provider
 * holds on its data folder, and the liveness check that lets a new provider take over (or clean up)
 * what a killed one left.
 *
 * A process is named by its PID and its start time (field 22 of /proc/PID/stat, in clock ticks
 * since boot), so that a PID reused by an unrelated process after a crash (common in containers,
 * where the provider is often PID 7 or so on every run) is not mistaken for the owner. Where /proc
 * cannot be read (not Linux) only the PID is compared.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The lock file's name inside a data folder. */
export const LOCK_NAME = 'provider.lock';

export interface Owner {
  readonly pid: number;
  /** Start time in clock ticks since boot, when /proc has it. */
  readonly start?: number;
}

/** A process's start time from /proc, or undefined (no /proc, or no such process). */
function startTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    // Fields after the command (which may hold spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

function zombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf-8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return false;
  }
}

/** This process, as an owner. */
export function me(): Owner {
  return { pid: process.pid, start: startTime(process.pid) };
}

/** Whether the owner still runs: the same PID, started at the same time, and not a zombie. */
export function alive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: it exists, as another user's process.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (zombie(owner.pid)) return false;
  const start = startTime(owner.pid);
  return owner.start === undefined || start === undefined || start === owner.start;
}

/** The owner a lock file names, or undefined when there is none (or it cannot be read). */
export function readOwner(lockFile: string): Owner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(lockFile, 'utf-8'));
    return Number.isInteger(parsed.pid) && parsed.pid > 0 ? { pid: parsed.pid, start: parsed.start } : undefined;
  } catch {
    return undefined;
  }
}

/** Another live provider holds the data folder. */
export class DataDirInUseError extends Error {
  constructor(public readonly dir: string, public readonly lockFile: string, public readonly owner: number) {
    super(`data folder ${dir} is in use by the local provider with PID ${owner} (${lockFile}): `
      + 'two providers in one folder would overwrite each other\'s nodes and objects; stop it or choose another folder');
    this.name = 'DataDirInUseError';
  }
}

export interface DataDirLock {
  /** The PID of a dead provider whose lock this one took over. */
  readonly previousOwner?: number;
  /** Removes the lock file, if it is still this lock's. Safe to call twice. */
  release(): void;
}

const sameOwner = (a: Owner | undefined, b: Owner) => a !== undefined && a.pid === b.pid && a.start === b.start;

/**
 * Locks a data folder for this process (creating the folder): a lock file naming this process.
 * A lock whose owner is dead is taken over; a live one is refused with a DataDirInUseError.
 *
 * The lock file is created whole (written under another name, then hard-linked into place, which
 * fails if it exists), so a reader never sees half a lock. A stale lock is replaced under a second,
 * exclusive "takeover" file, so that two providers starting at once over one stale lock cannot both
 * take it.
 */
export function lockDataDir(dir: string): DataDirLock {
  fs.mkdirSync(dir, { recursive: true });
  const lockFile = path.join(dir, LOCK_NAME);
  const guard = `${lockFile}.takeover`;
  const mine = me();
  const draft = `${lockFile}.${process.pid}.${Date.now()}`;
  fs.writeFileSync(draft, JSON.stringify(mine));
  const link = (target: string) => {
    try {
      fs.linkSync(draft, target);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  };
  let previousOwner: number | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      if (link(lockFile)) break;
      const owner = readOwner(lockFile);
      if (owner && alive(owner)) throw new DataDirInUseError(dir, lockFile, owner.pid);
      if (attempt >= 20) throw new Error(`could not lock data folder ${dir}: ${lockFile} keeps changing`);
      if (!link(guard)) {
        // Another provider is taking over right now; a guard left by a dead one is removed.
        const holder = readOwner(guard);
        if (!holder || !alive(holder)) fs.rmSync(guard, { force: true });
        continue;
      }
      try {
        // Under the guard, look again: the lock may have been released or taken meanwhile. A lock
        // that cannot be read is not one this code wrote (it writes them whole): replaced too.
        const again = readOwner(lockFile);
        if (fs.existsSync(lockFile) && (again === undefined || !alive(again))) {
          fs.rmSync(lockFile, { force: true });
          if (link(lockFile)) {
            previousOwner = again?.pid;
            break;
          }
        }
      } finally {
        fs.rmSync(guard, { force: true });
      }
    }
  } finally {
    fs.rmSync(draft, { force: true });
  }
  return {
    previousOwner,
    release: () => {
      if (sameOwner(readOwner(lockFile), mine)) fs.rmSync(lockFile, { force: true });
    },
  };
}
