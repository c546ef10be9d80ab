/**
 * The state of the emulated ElastiCache of one region: replication groups, their shards and member
 * nodes, and snapshots. Plain data; the rules that change it are in the engine, the processes
 * behind the nodes in `nodes.ts`, the wire shapes in the API layer.
 */
import { invalidParameterValue } from './errors';
import type { RedisServer } from '../redis/server';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const GIB = 1024 ** 3;

/**
 * How long operations take, in simulated milliseconds. The operations that move data take a base
 * time plus a time per GiB of the data involved (`...PerGiB`); the base fields keep their meaning.
 */
export interface Timings {
  /** Creating a group; the base of a seeded creation too (see `restorePerGiB`). */
  readonly createGroup: number;
  /** A snapshot, before the time its RDB files take (see `snapshotPerGiB`). */
  readonly snapshot: number;
  /**
   * Added to `snapshot` per GiB of the largest RDB file the snapshot saved (each shard's node
   * saves its own file, in parallel with the others).
   */
  readonly snapshotPerGiB: number;
  readonly copySnapshot: number;
  /** An export (CopySnapshot to S3), before the time its objects take (see `exportPerGiB`). */
  readonly exportSnapshot: number;
  /** Added to `exportSnapshot` per GiB of all the RDB files exported. */
  readonly exportPerGiB: number;
  /**
   * Added to `createGroup`, for a group seeded from a snapshot (`SnapshotName`) or from RDB files
   * in S3 (`SnapshotArns`), per GiB of the largest seed file (each shard loads its own, in parallel).
   */
  readonly restorePerGiB: number;
  readonly deleteGroup: number;
  readonly failover: number;
  /**
   * Replacing a failed node: a new node launched for the same member, synced from the shard's
   * primary (or, for a primary without automatic failover, from one of its replicas). The user
   * guide says only that a replacement "typically completes within a few minutes" (ElastiCache
   * maintenance FAQ, "How long does a node replacement take?").
   */
  readonly replaceNode: number;
  /** A ModifyReplicationGroup of the AUTH token (ROTATE or SET). */
  readonly authToken: number;
}

// AWS publishes no duration for any of these, nor a rate per GiB ("AWS publishes no typical restore
// time"; the user guide's "Snapshot and restore" pages give none). The bases are this emulator's.
// The rates per GiB are ASSUMPTIONS, sized from the two public numbers that bound the work:
// - S3 (user guide, "Performance design patterns for Amazon S3", parallelization): "make one
//   concurrent request for each 85-90 MB/s of desired network throughput", so one stream moves a
//   GiB in about 12 s;
// - redis-server here saves and loads about 36 MB/s of small keys (ELASTICACHE-FACTS.md: 0.8 s for
//   a 29 MB RDB of a million keys), about 30 s per GiB.
// A save or a load plus one transfer to or from S3 is then about 40 s per GiB; one minute per GiB
// leaves room for a node smaller than this machine and for the service's own steps. An export is
// an S3-to-S3 copy (no Redis work): half a minute per GiB. Measure in AWS before relying on them.
/**
 * The default simulated durations of ElastiCache operations. Every timing the local provider
 * simulates (these, S3 replication, Route 53 propagation, ...), with its option, its formula by
 * data size and its source, is documented in `local/TIMINGS.md`; change both together.
 */
export const DEFAULT_TIMINGS: Timings = {
  createGroup: 10 * MINUTE,
  snapshot: 5 * MINUTE,
  // (assumption, see above)
  snapshotPerGiB: MINUTE,
  copySnapshot: 2 * MINUTE,
  exportSnapshot: 5 * MINUTE,
  // (assumption, see above)
  exportPerGiB: MINUTE / 2,
  // (assumption, see above)
  restorePerGiB: MINUTE,
  deleteGroup: 5 * MINUTE,
  failover: 2 * MINUTE,
  replaceNode: 5 * MINUTE,
  // (unverified) AWS publishes no duration for an AUTH token change; the group is modifying meanwhile.
  authToken: 2 * MINUTE,
};

export type GroupStatus = 'creating' | 'available' | 'modifying' | 'deleting' | 'snapshotting' | 'create-failed' | 'restore-failed';
export type SnapshotStatus = 'creating' | 'available' | 'restoring' | 'copying' | 'deleting' | 'failed';

export interface Member {
  readonly id: string;
  readonly shardId: string;
  role: 'primary' | 'replica';
  server?: RedisServer;
  readonly createdAt: number;
  /** Its node failed and a replacement is being launched and synced: no endpoint, node status `creating`. */
  replacing?: boolean;
  /** Its node failed and could not be replaced (node status `restore-failed`: "the node has failed and is unable to recover"). */
  unrecoverable?: boolean;
}

export interface Shard {
  /** The node group id, `0001`, `0002`, … */
  readonly id: string;
  /** The hash slots, e.g. `0-5460` (always `0-16383` with cluster mode disabled). */
  readonly slots: string;
  readonly members: Member[];
}

/** The engines of replication groups. */
export type Engine = 'redis' | 'valkey';

export interface Group {
  readonly id: string;
  readonly description: string;
  status: GroupStatus;
  readonly nodeType: string;
  /** `redis` or `valkey`. Both run on redis-server here (there is no valkey-server on these machines). */
  readonly engine: Engine;
  readonly engineVersion: string;
  readonly createdAt: number;
  /** A primary kept alone after its group was deleted: a cache cluster with no replication group. */
  readonly standalone?: boolean;
  readonly clusterEnabled: boolean;
  /** The port every node listens on (CreateReplicationGroup's `Port`, default 6379). */
  readonly port: number;
  readonly shards: Shard[];
  /** Every member of every shard. */
  readonly members: Member[];
  retentionDays: number;
  snapshotWindow: string;
  snapshottingClusterId?: string;
  maintenanceWindow: string;
  automaticFailover: boolean;
  multiAz: boolean;
  readonly transitEncryption: boolean;
  readonly atRestEncryption: boolean;
  readonly authTokenEnabled: boolean;
  /** The AUTH tokens the nodes accept: one, or two during a rotation (ModifyReplicationGroup ROTATE until SET). */
  authTokens: string[];
  /** The AUTH token change under way (`PendingModifiedValues.AuthTokenStatus`) while the group is `modifying`. */
  authTokenStatus?: 'ROTATING' | 'SETTING';
  /** When the AUTH token was last changed. */
  authTokenModifiedAt?: number;
  readonly tags: Map<string, string>;
  /** Real work under way (starting nodes, saving) that a status change waits for. */
  busy?: Promise<void>;
  /** Failed nodes being replaced (after `busy`, if any): a status change waits for it too. */
  recovery?: Promise<void>;
  /** Simulated time before which the current operation cannot be finished. */
  doneAt?: number;
}

export interface NodeSnapshot {
  readonly cacheClusterId: string;
  readonly nodeGroupId: string;
  readonly slots: string;
  readonly file: string;
  readonly createdAt: number;
  size?: number;
}

export interface Snapshot {
  readonly name: string;
  status: SnapshotStatus;
  readonly source: 'manual' | 'automatic';
  readonly groupId: string;
  readonly groupDescription: string;
  readonly nodeType: string;
  /** The engine of the group it was taken from. */
  readonly engine: Engine;
  readonly engineVersion: string;
  readonly retentionDays: number;
  readonly snapshotWindow: string;
  readonly replicasPerShard: number;
  readonly clusterEnabled: boolean;
  readonly automaticFailover: boolean;
  readonly nodeSnapshots: NodeSnapshot[];
  readonly tags: Map<string, string>;
  readonly createdAt: number;
  /** The member it was taken from, when CreateSnapshot named one (CacheClusterId). */
  readonly cacheClusterId?: string;
  busy?: Promise<void>;
  doneAt?: number;
  /** What happens when the simulated time of the current operation has passed (an export writes its objects). */
  onDone?: () => void;
  failed?: boolean;
}

/** Faults a test can inject. */
export interface Faults {
  /** The next N snapshots (manual, automatic or final) end `failed`. */
  failSnapshots: number;
  /**
   * Extra time (simulated ms) the next snapshots take, one entry per snapshot in the order they
   * start: a large dataset, or a save slowed by heavy writes. The snapshot stays `creating` (and
   * its group `snapshotting`) that much longer.
   */
  snapshotDelays: number[];
  /** Calls to fail, by action: the next `count` calls get `code` (e.g. Throttling, InternalFailure). */
  failCalls: Map<string, { code: string; count: number; status: number }>;
}

/** The simulated time `perGiB` amounts to for `bytes`. */
export function perGiB(bytes: number, perGiBMs: number): number {
  return Math.round((bytes / GIB) * perGiBMs);
}

export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The ranges of a slot list such as `0-5460,6000,7000-7100`. */
export function parseSlots(slots: string): Array<[number, number]> {
  return slots.split(',').map((range) => {
    const [a, b] = range.trim().split('-').map(Number);
    const last = b ?? a;
    if (!Number.isInteger(a) || !Number.isInteger(last) || a < 0 || last > 16383 || last < a) {
      throw invalidParameterValue(`Invalid slot range ${range} in ${slots}; slots are 0-16383, written first-last.`);
    }
    return [a, last];
  });
}

/** ElastiCache's name for an automatic snapshot taken at `time`. */
export function automaticSnapshotName(groupId: string, time: number): string {
  const d = new Date(time);
  return `automatic.${groupId}-${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
}
