/**
 * The emulated ElastiCache control plane of one region: replication groups whose nodes are real
 * `redis-server` processes, and snapshots that are real RDB files. It keeps ElastiCache's statuses,
 * error codes and rules; durations are simulated with the provider's clock.
 *
 * Supported so far: cluster mode disabled groups, with seeding from and export to the provider's
 * S3. Cluster mode enabled and failover are refused with `NotImplemented` rather than faked.
 */
import * as fs from 'fs';
import * as path from 'path';
import type Redis from 'ioredis';
import { ELASTICACHE_CANONICAL_ID, OPT_IN_REGIONS } from '../../src/private/regions';
import { slotRanges as evenSlots } from '../../src/private/slots';
import { Clock } from '../clock';
import { linkOrCopy } from '../files';
import { ServiceError } from './query';
import { RedisServer } from '../redis/server';
import { Bucket, Grant, S3Store } from '../s3/store';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long operations take, in simulated milliseconds. */
export interface Timings {
  readonly createGroup: number;
  readonly snapshot: number;
  readonly copySnapshot: number;
  readonly exportSnapshot: number;
  readonly deleteGroup: number;
  readonly failover: number;
}

export const DEFAULT_TIMINGS: Timings = {
  createGroup: 10 * MINUTE,
  snapshot: 5 * MINUTE,
  copySnapshot: 2 * MINUTE,
  exportSnapshot: 5 * MINUTE,
  deleteGroup: 5 * MINUTE,
  failover: 2 * MINUTE,
};

export { ELASTICACHE_CANONICAL_ID, OPT_IN_REGIONS };

/** The most manual snapshots ElastiCache lets one node take in 24 hours. */
export const MANUAL_SNAPSHOT_QUOTA = 20;

export type GroupStatus = 'creating' | 'available' | 'modifying' | 'deleting' | 'snapshotting' | 'create-failed' | 'restore-failed';
export type SnapshotStatus = 'creating' | 'available' | 'restoring' | 'copying' | 'deleting' | 'failed';

interface Member {
  readonly id: string;
  readonly shardId: string;
  role: 'primary' | 'replica';
  server?: RedisServer;
  readonly createdAt: number;
}

interface Shard {
  /** The node group id, `0001`, `0002`, … */
  readonly id: string;
  /** The hash slots, e.g. `0-5460` (always `0-16383` with cluster mode disabled). */
  readonly slots: string;
  readonly members: Member[];
}

interface Group {
  readonly id: string;
  readonly description: string;
  status: GroupStatus;
  readonly nodeType: string;
  readonly engineVersion: string;
  readonly createdAt: number;
  /** A primary kept alone after its group was deleted: a cache cluster with no replication group. */
  readonly standalone?: boolean;
  readonly clusterEnabled: boolean;
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
  readonly tags: Map<string, string>;
  /** Real work under way (starting nodes, saving) that a status change waits for. */
  busy?: Promise<void>;
  /** Simulated time before which the current operation cannot be finished. */
  doneAt?: number;
}

interface NodeSnapshot {
  readonly cacheClusterId: string;
  readonly nodeGroupId: string;
  readonly slots: string;
  readonly file: string;
  readonly createdAt: number;
  size?: number;
}

interface Snapshot {
  readonly name: string;
  status: SnapshotStatus;
  readonly source: 'manual' | 'automatic';
  readonly groupId: string;
  readonly groupDescription: string;
  readonly nodeType: string;
  readonly engineVersion: string;
  readonly retentionDays: number;
  readonly snapshotWindow: string;
  readonly replicasPerShard: number;
  readonly clusterEnabled: boolean;
  readonly automaticFailover: boolean;
  readonly nodeSnapshots: NodeSnapshot[];
  readonly tags: Map<string, string>;
  readonly createdAt: number;
  busy?: Promise<void>;
  doneAt?: number;
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

export interface EngineOptions {
  readonly region: string;
  readonly account: string;
  readonly dataDir: string;
  readonly clock: Clock;
  readonly timings?: Partial<Timings>;
  readonly s3: S3Store;
}

const NAME = /^[a-z](?!.*--)[a-z0-9-]{0,39}(?<!-)$/;

function checkName(kind: string, value: string, max = 40): void {
  const lower = value.toLowerCase();
  if (lower.length > max || !NAME.test(lower)) {
    throw new ServiceError('InvalidParameterValue',
      `${kind} must contain from 1 to ${max} alphanumeric characters or hyphens; must begin with a letter; can't end with a hyphen or contain two consecutive hyphens.`);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The ranges of a slot list such as `0-5460,6000,7000-7100`. */
function parseSlots(slots: string): Array<[number, number]> {
  return slots.split(',').map((range) => {
    const [a, b] = range.trim().split('-').map(Number);
    const last = b ?? a;
    if (!Number.isInteger(a) || !Number.isInteger(last) || a < 0 || last > 16383 || last < a) {
      throw new ServiceError('InvalidParameterValue', `Invalid slot range ${range} in ${slots}; slots are 0-16383, written first-last.`);
    }
    return [a, last];
  });
}

/** ElastiCache's name for an automatic snapshot taken at `time`. */
export function automaticSnapshotName(groupId: string, time: number): string {
  const d = new Date(time);
  return `automatic.${groupId}-${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}`;
}

export class ElastiCacheEngine {
  public readonly faults: Faults = { failSnapshots: 0, snapshotDelays: [], failCalls: new Map() };
  private readonly groups = new Map<string, Group>();
  /** Primaries kept as standalone cache clusters (DeleteReplicationGroup with RetainPrimaryCluster), by id. */
  private readonly standalone = new Map<string, Group>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly timings: Timings;
  private readonly clock: Clock;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    fs.mkdirSync(this.nodesDir, { recursive: true });
    fs.mkdirSync(this.snapshotsDir, { recursive: true });
    this.clock.onAdvance((from, to) => this.runAutomaticSnapshots(from, to));
  }

  private get nodesDir(): string {
    return path.join(this.options.dataDir, 'nodes');
  }

  private get snapshotsDir(): string {
    return path.join(this.options.dataDir, 'snapshots');
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:elasticache:${this.options.region}:${this.options.account}:${kind}:${name}`;
  }

  // ---- status bookkeeping ------------------------------------------------------------------

  /** Brings statuses up to date: finished work whose simulated duration has passed completes. */
  public async settle(): Promise<void> {
    const now = this.clock.now();
    for (const group of [...this.groups.values(), ...this.standalone.values()]) {
      if (group.busy) {
        await group.busy.catch(() => undefined);
      }
      if (group.status !== 'deleting' && group.doneAt !== undefined && now >= group.doneAt && !group.busy) {
        group.doneAt = undefined;
        if (group.status === 'creating' || group.status === 'snapshotting' || group.status === 'modifying') {
          group.status = 'available';
        }
      }
    }
    for (const snapshot of this.snapshots.values()) {
      if (snapshot.busy) {
        await snapshot.busy.catch(() => undefined);
      }
      if (snapshot.doneAt !== undefined && now >= snapshot.doneAt && !snapshot.busy) {
        snapshot.doneAt = undefined;
        if (snapshot.status === 'creating' || snapshot.status === 'copying') {
          snapshot.status = snapshot.failed ? 'failed' : 'available';
        }
      }
    }
    // A group snapshotting for a snapshot that is now done is available again.
    for (const group of [...this.groups.values(), ...this.standalone.values()]) {
      if (group.status === 'snapshotting' && group.doneAt === undefined) {
        group.status = 'available';
      }
    }
    // Groups being deleted are gone once their (final snapshot) work is done.
    for (const group of [...this.groups.values()]) {
      if (group.status === 'deleting' && group.doneAt !== undefined && now >= group.doneAt && !group.busy) {
        this.groups.delete(group.id);
      }
    }
  }

  private group(id: string | undefined): Group {
    const group = id ? this.groups.get(id.toLowerCase()) : undefined;
    if (!group) {
      throw new ServiceError('ReplicationGroupNotFoundFault', `ReplicationGroup ${id} not found.`, 404);
    }
    return group;
  }

  private requireAvailable(group: Group): void {
    if (group.status !== 'available') {
      throw new ServiceError('InvalidReplicationGroupState', `Replication group ${group.id} is not in available state (it is ${group.status}).`);
    }
  }

  // ---- replication groups ------------------------------------------------------------------

  public async createReplicationGroup(req: {
    id: string;
    description: string;
    nodeType?: string;
    engine?: string;
    engineVersion?: string;
    numCacheClusters?: number;
    replicasPerNodeGroup?: number;
    numNodeGroups?: number;
    clusterMode?: string;
    nodeGroupConfiguration: Array<Record<string, string>>;
    cacheParameterGroupName?: string;
    automaticFailover?: boolean;
    multiAz?: boolean;
    snapshotName?: string;
    snapshotArns: string[];
    retentionDays?: number;
    snapshotWindow?: string;
    maintenanceWindow?: string;
    transitEncryption?: boolean;
    atRestEncryption?: boolean;
    authToken?: string;
    tags: Array<[string, string]>;
  }): Promise<Group> {
    checkName('Replication group id', req.id);
    const id = req.id.toLowerCase();
    if (this.groups.has(id)) {
      throw new ServiceError('ReplicationGroupAlreadyExists', `Replication group ${id} already exists.`);
    }
    if (!req.nodeType) {
      throw new ServiceError('InvalidParameterValue', 'The parameter CacheNodeType must be provided and must not be blank.');
    }
    if (req.engine && !['redis', 'valkey'].includes(req.engine.toLowerCase())) {
      throw new ServiceError('InvalidParameterValue', `Engine ${req.engine} does not support replication groups.`);
    }
    const clusterEnabled = req.clusterMode === 'enabled' || (req.numNodeGroups ?? 1) > 1
      || (req.cacheParameterGroupName ?? '').endsWith('.cluster.on');
    const layout = this.layout(clusterEnabled, req);
    const nodes = layout.reduce((n, shard) => n + 1 + shard.replicas, 0);
    const automaticFailover = req.automaticFailover ?? clusterEnabled;
    if (clusterEnabled && !automaticFailover) {
      throw new ServiceError('InvalidParameterCombination', 'Automatic failover must be enabled for Redis (cluster mode enabled) replication groups.');
    }
    if (automaticFailover && !clusterEnabled && nodes < 2) {
      throw new ServiceError('InvalidParameterCombination', 'Automatic failover requires at least one read replica.');
    }
    if (req.multiAz && !automaticFailover) {
      throw new ServiceError('InvalidParameterCombination', 'Multi-AZ requires automatic failover to be enabled.');
    }
    if (req.authToken && !req.transitEncryption) {
      throw new ServiceError('InvalidParameterCombination', 'AuthToken can only be set when TransitEncryptionEnabled is true.');
    }
    const retentionDays = req.retentionDays ?? 0;
    if (retentionDays < 0 || retentionDays > 35) {
      throw new ServiceError('InvalidParameterValue', `SnapshotRetentionLimit must be between 0 and 35, got ${retentionDays}.`);
    }
    if (retentionDays > 0 && req.nodeType === 'cache.t1.micro') {
      throw new ServiceError('InvalidParameterCombination', 'Snapshots are not supported for cache.t1.micro nodes.');
    }
    let seedRdbs: string[] | undefined;
    if (req.snapshotArns.length > 0) {
      if (req.snapshotName) {
        throw new ServiceError('InvalidParameterCombination', 'Only one of SnapshotName and SnapshotArns may be specified.');
      }
      if (clusterEnabled && req.nodeGroupConfiguration.length === 0) {
        throw new ServiceError('InvalidParameterValue', 'Slots must be provided when restoring from snapshot ARNs with cluster mode enabled.');
      }
      if (req.snapshotArns.length !== layout.length) {
        throw new ServiceError('NotImplemented',
          `The local provider seeds one shard from each RDB file and does not reshard: ${req.snapshotArns.length} RDB files for ${layout.length} shards.`, 501);
      }
      seedRdbs = req.snapshotArns.map((arn) => this.readableSeed(arn));
    }
    let seed: Snapshot | undefined;
    if (req.snapshotName) {
      seed = this.snapshots.get(req.snapshotName.toLowerCase());
      if (!seed) {
        throw new ServiceError('SnapshotNotFoundFault', `Snapshot ${req.snapshotName} not found.`, 404);
      }
      if (seed.status !== 'available') {
        throw new ServiceError('InvalidSnapshotState', `Snapshot ${seed.name} is not in available state (it is ${seed.status}).`);
      }
      if (/^cache\.r6gd\./.test(seed.nodeType) && !/^cache\.r6gd\./.test(req.nodeType)) {
        throw new ServiceError('InvalidParameterCombination',
          `Snapshot ${seed.name} was taken from data tiering node type ${seed.nodeType}; it can only be restored into a data tiering (cache.r6gd.*) node type, not ${req.nodeType}.`);
      }
      if (seed.nodeSnapshots.length !== layout.length) {
        throw new ServiceError('NotImplemented',
          `The local provider does not reshard on restore: snapshot ${seed.name} has ${seed.nodeSnapshots.length} shards, the new group ${layout.length}.`, 501);
      }
      seedRdbs = seed.nodeSnapshots.map((n) => n.file);
    }
    const now = this.clock.now();
    const group: Group = {
      id,
      description: req.description,
      status: 'creating',
      nodeType: req.nodeType,
      engineVersion: req.engineVersion ?? '7.1',
      createdAt: now,
      clusterEnabled,
      shards: layout.map((shard) => ({
        id: shard.id,
        slots: shard.slots,
        members: Array.from({ length: 1 + shard.replicas }, (_, i) => ({
          id: clusterEnabled ? `${id}-${shard.id}-${pad(i + 1, 3)}` : `${id}-${pad(i + 1, 3)}`,
          shardId: shard.id,
          role: i === 0 ? 'primary' as const : 'replica' as const,
          createdAt: now,
        })),
      })),
      members: [],
      retentionDays,
      snapshotWindow: req.snapshotWindow ?? '05:00-06:00',
      // CreateReplicationGroup takes no SnapshottingClusterId (CloudFormation sets it with a
      // ModifyReplicationGroup after creating the group); ElastiCache picks a node itself
      // (unverified which): the primary is used here.
      snapshottingClusterId: retentionDays > 0 && !clusterEnabled ? `${id}-001` : undefined,
      maintenanceWindow: req.maintenanceWindow ?? 'sun:23:00-mon:00:00',
      automaticFailover,
      multiAz: req.multiAz ?? false,
      transitEncryption: req.transitEncryption ?? false,
      atRestEncryption: req.atRestEncryption ?? false,
      authTokenEnabled: !!req.authToken,
      tags: new Map(req.tags),
      doneAt: now + this.timings.createGroup,
    };
    group.members.push(...group.shards.flatMap((shard) => shard.members));
    this.groups.set(id, group);
    const seeded = seedRdbs !== undefined;
    group.busy = (clusterEnabled ? this.startCluster(group, seedRdbs) : this.startNodes(group, seedRdbs?.[0])).then(
      () => { group.busy = undefined; },
      async () => {
        // An RDB that redis-server cannot load leaves the group restore-failed, as in ElastiCache.
        await Promise.all(group.members.map((m) => m.server?.stop()));
        group.busy = undefined;
        group.status = seeded ? 'restore-failed' : 'create-failed';
        group.doneAt = undefined;
      },
    );
    return group;
  }

  /** The shards a new group will have: ids, slot ranges and replica counts. */
  private layout(clusterEnabled: boolean, req: {
    numCacheClusters?: number; replicasPerNodeGroup?: number; numNodeGroups?: number; nodeGroupConfiguration: Array<Record<string, string>>;
  }): Array<{ id: string; slots: string; replicas: number }> {
    if (!clusterEnabled) {
      const nodes = req.numCacheClusters ?? (req.replicasPerNodeGroup !== undefined ? 1 + req.replicasPerNodeGroup : 1);
      if (nodes < 1 || nodes > 6) {
        throw new ServiceError('InvalidParameterValue', `NumCacheClusters must be between 1 and 6, got ${nodes}.`);
      }
      return [{ id: '0001', slots: '0-16383', replicas: nodes - 1 }];
    }
    if (req.numCacheClusters !== undefined) {
      throw new ServiceError('InvalidParameterCombination', 'NumCacheClusters is not valid for cluster mode enabled replication groups; use NumNodeGroups and ReplicasPerNodeGroup.');
    }
    const configs = req.nodeGroupConfiguration;
    const shards = req.numNodeGroups ?? (configs.length || 1);
    if (shards < 1 || shards > 500) {
      throw new ServiceError('InvalidParameterValue', `NumNodeGroups must be between 1 and 500, got ${shards}.`);
    }
    if (configs.length > 0 && configs.length !== shards) {
      throw new ServiceError('InvalidParameterValue', `NodeGroupConfiguration has ${configs.length} entries but NumNodeGroups is ${shards}.`);
    }
    const replicas = req.replicasPerNodeGroup ?? 1;
    if (replicas < 0 || replicas > 5) {
      throw new ServiceError('InvalidParameterValue', `ReplicasPerNodeGroup must be between 0 and 5, got ${replicas}.`);
    }
    const even = evenSlots(shards);
    const layout = Array.from({ length: shards }, (_, i) => ({
      id: configs[i]?.NodeGroupId ? pad(Number(configs[i].NodeGroupId), 4) : pad(i + 1, 4),
      slots: configs[i]?.Slots ?? even[i],
      replicas: configs[i]?.ReplicaCount !== undefined ? Number(configs[i].ReplicaCount) : replicas,
    }));
    const owner = new Array<number>(16384).fill(-1);
    layout.forEach((shard, i) => {
      for (const [first, last] of parseSlots(shard.slots)) {
        for (let slot = first; slot <= last; slot++) {
          if (owner[slot] >= 0) {
            throw new ServiceError('InvalidParameterValue', `Slot ${slot} is assigned to node groups ${layout[owner[slot]].id} and ${shard.id}.`);
          }
          owner[slot] = i;
        }
      }
    });
    const missing = owner.indexOf(-1);
    if (missing >= 0) {
      throw new ServiceError('InvalidParameterValue', `The slots of the node groups do not cover slot ${missing}; every slot 0-16383 must be assigned.`);
    }
    return layout;
  }

  /** Runs `work` with a client of `member`'s server, released afterwards. */
  private async withClient<T>(member: Member, work: (client: Redis) => Promise<T>): Promise<T> {
    const client = member.server!.client();
    try {
      return await work(client);
    } finally {
      member.server!.release(client);
    }
  }

  /**
   * Starts a Redis Cluster: one cluster-enabled redis-server per member, each shard's primary
   * seeded with its RDB when given and given its slots, the nodes introduced to each other,
   * replicas attached to their primary; waits until the cluster state is ok on every node.
   */
  private async startCluster(group: Group, seedRdbs?: string[]): Promise<void> {
    await Promise.all(group.members.map(async (member) => {
      const dir = path.join(this.nodesDir, member.id);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const shardIndex = group.shards.findIndex((s) => s.id === member.shardId);
      if (member.role === 'primary' && seedRdbs) {
        linkOrCopy(seedRdbs[shardIndex], path.join(dir, 'dump.rdb'));
      }
      member.server = await RedisServer.start({ dir, cluster: true });
    }));
    const first = group.members[0].server!;
    const nodeIds = new Map<Member, string>();
    for (const [i, member] of group.members.entries()) {
      await this.withClient(member, async (client) => {
        nodeIds.set(member, String(await client.call('CLUSTER', 'MYID')));
        // Distinct config epochs, as redis-cli --cluster create sets them, avoid epoch collisions.
        await client.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)).catch(() => undefined);
        if (member.role === 'primary') {
          await this.assignSlots(client, group.shards.find((s) => s.id === member.shardId)!);
        }
        if (member.server !== first) {
          await client.call('CLUSTER', 'MEET', first.host, String(first.port));
        }
      });
    }
    await Promise.all(group.members.map((member) => this.withClient(member, async (client) => {
      for (;;) {
        const known = String(await client.call('CLUSTER', 'NODES')).trim().split('\n')
          .filter((line) => !line.includes('handshake') && !line.includes('noaddr'));
        if (known.length === group.members.length) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    })));
    for (const shard of group.shards) {
      for (const replica of shard.members.slice(1)) {
        await this.withClient(replica, (client) => client.call('CLUSTER', 'REPLICATE', nodeIds.get(shard.members[0])!));
      }
    }
    await Promise.all(group.members.map((member) => this.withClient(member, async (client) => {
      for (;;) {
        const state = String(await client.call('CLUSTER', 'INFO'));
        const replication = member.role === 'replica' ? await client.info('replication') : 'master_link_status:up master_sync_in_progress:0';
        if (/cluster_state:ok/.test(state) && /master_link_status:up/.test(replication) && /master_sync_in_progress:0/.test(replication)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    })));
  }

  /**
   * Gives a shard's primary its slots. A seeded node has already claimed the slots of the keys it
   * loaded; those must all be the shard's own (the local provider does not move keys between shards).
   */
  private async assignSlots(client: Redis, shard: Shard): Promise<void> {
    const owned = new Set<number>();
    const myself = String(await client.call('CLUSTER', 'NODES')).split('\n').find((line) => line.includes('myself')) ?? '';
    for (const range of myself.trim().split(' ').slice(8)) {
      const [a, b] = range.split('-').map(Number);
      for (let slot = a; slot <= (b ?? a); slot++) owned.add(slot);
    }
    const wanted = new Set<number>();
    for (const [a, b] of parseSlots(shard.slots)) for (let slot = a; slot <= b; slot++) wanted.add(slot);
    const stray = [...owned].find((slot) => !wanted.has(slot));
    if (stray !== undefined) {
      throw new Error(`the RDB of node group ${shard.id} holds keys of slot ${stray}, outside its slots ${shard.slots}`);
    }
    const add = [...wanted].filter((slot) => !owned.has(slot));
    for (let i = 0; i < add.length; i += 2000) {
      await client.call('CLUSTER', 'ADDSLOTS', ...add.slice(i, i + 2000).map(String));
    }
  }

  /** Starts the group's nodes: the primary (loading `seedRdb` when given), then replicas following it. */
  private async startNodes(group: Group, seedRdb?: string): Promise<void> {
    const [primary, ...replicas] = group.members;
    const primaryDir = path.join(this.nodesDir, primary.id);
    fs.rmSync(primaryDir, { recursive: true, force: true });
    fs.mkdirSync(primaryDir, { recursive: true });
    if (seedRdb) {
      linkOrCopy(seedRdb, path.join(primaryDir, 'dump.rdb'));
    }
    primary.server = await RedisServer.start({ dir: primaryDir });
    await Promise.all(replicas.map(async (member) => {
      const dir = path.join(this.nodesDir, member.id);
      fs.rmSync(dir, { recursive: true, force: true });
      member.server = await RedisServer.start({ dir });
      await this.follow(member, primary.server!);
    }));
  }

  /** Makes `replica` replicate `primary` and waits until its first sync is done. */
  private async follow(replica: Member, primary: RedisServer): Promise<void> {
    await this.withClient(replica, async (client) => {
      await client.call('REPLICAOF', primary.host, String(primary.port));
      for (;;) {
        const info = await client.info('replication');
        if (/master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    });
  }


  /**
   * Checks that ElastiCache could read an RDB object to seed from (same region, SSE-S3, read access
   * granted to ElastiCache) and returns its file.
   */
  private readableSeed(arn: string): string {
    const m = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/.exec(arn);
    if (!m || arn.includes(',')) {
      throw new ServiceError('InvalidParameterValue', `Invalid S3 object ARN: ${arn}. Expected arn:aws:s3:::bucket/key.`);
    }
    const bucket = this.options.s3.tryBucket(m[1]);
    if (!bucket) {
      throw new ServiceError('InvalidParameterValue', `No such bucket: ${m[1]}.`);
    }
    if (bucket.region !== this.options.region) {
      throw new ServiceError('InvalidParameterValue', `The S3 bucket ${m[1]} is in ${bucket.region}; the RDB file must be in ${this.options.region}, the region of the replication group.`);
    }
    const object = bucket.objects.get(m[2]);
    if (!object) {
      throw new ServiceError('InvalidParameterValue', `No such object: ${m[2]} in bucket ${m[1]}.`);
    }
    if (object.sse !== 'AES256') {
      throw new ServiceError('InvalidParameterValue', `The object ${m[2]} is encrypted with ${object.sse}; ElastiCache can only read RDB files encrypted with SSE-S3 (AES256).`);
    }
    const aclRead = object.acl.some((g) => g.id === ELASTICACHE_CANONICAL_ID && (g.permission === 'READ' || g.permission === 'FULL_CONTROL'));
    if (!aclRead && !this.policyAllows(bucket, ['s3:GetObject'])) {
      throw new ServiceError('InvalidParameterValue', `ElastiCache has not been granted READ permission on the S3 object ${m[2]} in bucket ${m[1]}.`);
    }
    return object.file;
  }

  /** Whether the bucket policy allows the regional ElastiCache service principal every action given. */
  private policyAllows(bucket: Bucket, actions: string[]): boolean {
    if (!bucket.policy) return false;
    const principal = `${this.options.region}.elasticache-snapshot.amazonaws.com`;
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
    let statements: any[];
    try {
      const doc = JSON.parse(bucket.policy);
      statements = list(doc.Statement).length ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) : [];
    } catch {
      return false;
    }
    const allowed = statements
      .filter((st) => st.Effect === 'Allow' && list(st.Principal?.Service).includes(principal))
      .flatMap((st) => list(st.Action));
    const matches = (action: string) => allowed.some((a) => a === action || a === 's3:*' || a === '*'
      || (a.endsWith('*') && action.startsWith(a.slice(0, -1))));
    return actions.every(matches);
  }

  /** Why ElastiCache could not write an export into `bucket`, or undefined when it can. */
  private exportDenied(bucket: Bucket): string | undefined {
    if (OPT_IN_REGIONS.has(this.options.region)) {
      const needed = ['s3:PutObject', 's3:GetObject', 's3:ListBucket', 's3:GetBucketAcl', 's3:ListMultipartUploadParts', 's3:ListBucketMultipartUploads'];
      return this.policyAllows(bucket, needed) ? undefined
        : `ElastiCache has not been granted access to the S3 bucket ${bucket.name}: in ${this.options.region} its bucket policy must allow ${this.options.region}.elasticache-snapshot.amazonaws.com ${needed.join(', ')}.`;
    }
    const has = (p: Grant['permission']) => bucket.acl.some((g) => g.id === ELASTICACHE_CANONICAL_ID && (g.permission === p || g.permission === 'FULL_CONTROL'));
    for (const permission of ['READ', 'WRITE', 'READ_ACP'] as const) {
      if (!has(permission)) {
        return `ElastiCache has not been granted ${permission} permissions on the S3 bucket ${bucket.name}.`;
      }
    }
    return undefined;
  }

  public async describeReplicationGroups(id?: string): Promise<Group[]> {
    await this.settle();
    if (id) {
      return [this.group(id)];
    }
    return [...this.groups.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  public async modifyReplicationGroup(req: {
    id: string; retentionDays?: number; snapshotWindow?: string; snapshottingClusterId?: string; maintenanceWindow?: string;
  }): Promise<Group> {
    await this.settle();
    const group = this.group(req.id);
    this.requireAvailable(group);
    if (req.retentionDays !== undefined && (req.retentionDays < 0 || req.retentionDays > 35)) {
      throw new ServiceError('InvalidParameterValue', `SnapshotRetentionLimit must be between 0 and 35, got ${req.retentionDays}.`);
    }
    if (req.snapshottingClusterId !== undefined && group.clusterEnabled) {
      throw new ServiceError('InvalidParameterCombination', 'Cannot set snapshotting cluster for cluster mode enabled replication group.');
    }
    if (req.snapshottingClusterId !== undefined && !group.members.some((m) => m.id === req.snapshottingClusterId!.toLowerCase())) {
      throw new ServiceError('InvalidParameterValue', `Specified snapshotting cluster ${req.snapshottingClusterId} does not exist.`);
    }
    const turningOn = req.retentionDays !== undefined && req.retentionDays > 0 && group.retentionDays === 0;
    if (turningOn && !group.clusterEnabled && group.members.length > 1 && !req.snapshottingClusterId && !group.snapshottingClusterId) {
      throw new ServiceError('InvalidParameterCombination', 'Must specify both SnapshotRetentionLimit and SnapshottingClusterId to turn on snapshots.');
    }
    if (req.retentionDays !== undefined) group.retentionDays = req.retentionDays;
    if (req.snapshotWindow !== undefined) group.snapshotWindow = req.snapshotWindow;
    if (req.snapshottingClusterId !== undefined) group.snapshottingClusterId = req.snapshottingClusterId.toLowerCase();
    if (req.maintenanceWindow !== undefined) group.maintenanceWindow = req.maintenanceWindow;
    return group;
  }

  public async deleteReplicationGroup(req: { id: string; finalSnapshotName?: string; retainPrimaryCluster?: boolean }): Promise<Group> {
    await this.settle();
    const group = this.group(req.id);
    if (req.retainPrimaryCluster && group.clusterEnabled) {
      throw new ServiceError('InvalidParameterCombination', 'RetainPrimaryCluster is not valid for cluster mode enabled replication groups.');
    }
    if (!['available', 'create-failed', 'restore-failed'].includes(group.status)) {
      throw new ServiceError('InvalidReplicationGroupState', `Replication group ${group.id} is not in available state (it is ${group.status}).`);
    }
    let final: Snapshot | undefined;
    if (req.finalSnapshotName) {
      if (group.status !== 'available') {
        throw new ServiceError('InvalidReplicationGroupState', `Replication group ${group.id} must be available to take a final snapshot (it is ${group.status}).`);
      }
      checkName('Snapshot name', req.finalSnapshotName);
      if (this.snapshots.has(req.finalSnapshotName.toLowerCase())) {
        throw new ServiceError('SnapshotAlreadyExistsFault', `Snapshot ${req.finalSnapshotName} already exists.`);
      }
      // A final snapshot is always taken from the primaries.
      final = this.startSnapshot(group, group.shards.map((shard) => shard.members[0]), req.finalSnapshotName.toLowerCase(), 'manual');
    }
    group.status = 'deleting';
    group.doneAt = this.clock.now() + this.timings.deleteGroup;
    const work = (final?.busy ?? Promise.resolve()).catch(() => undefined).then(async () => {
      if (final?.failed) {
        // Nothing is lost: without its final snapshot the group is not deleted. (How ElastiCache
        // reports this is not documented; the group going back to available is this emulator's choice.)
        group.status = 'available';
        group.doneAt = undefined;
        return;
      }
      // With RetainPrimaryCluster the primary stays, as a cache cluster of its own.
      const kept = req.retainPrimaryCluster ? group.members.find((m) => m.role === 'primary') : undefined;
      const gone = group.members.filter((m) => m !== kept);
      await Promise.all(gone.map((m) => m.server?.stop()));
      for (const m of gone) {
        fs.rmSync(path.join(this.nodesDir, m.id), { recursive: true, force: true });
      }
      if (kept) {
        await this.withClient(kept, (client) => client.call('REPLICAOF', 'NO', 'ONE'));
        this.standalone.set(kept.id, {
          ...group,
          standalone: true,
          status: 'available',
          shards: [{ id: '0001', slots: '0-16383', members: [kept] }],
          members: [kept],
          snapshottingClusterId: undefined,
          automaticFailover: false,
          multiAz: false,
          tags: new Map(),
          busy: undefined,
          doneAt: undefined,
        });
      }
      // Automatic snapshots go with their group; manual ones stay.
      for (const s of [...this.snapshots.values()]) {
        if (s.source === 'automatic' && s.groupId === group.id) {
          this.removeSnapshot(s);
        }
      }
    });
    group.busy = work.then(() => { group.busy = undefined; });
    return group;
  }

  /**
   * Promotes a replica of a node group to primary, as an automatic failover would: the group is
   * `modifying` meanwhile, and the old primary follows the new one.
   */
  public async testFailover(groupId: string, nodeGroupId: string): Promise<Group> {
    await this.settle();
    const group = this.group(groupId);
    this.requireAvailable(group);
    const shard = group.shards.find((s) => s.id === nodeGroupId);
    if (!shard) {
      throw new ServiceError('NodeGroupNotFoundFault', `Node group ${nodeGroupId} not found in replication group ${group.id}.`, 404);
    }
    const replica = shard.members.find((m) => m.role === 'replica');
    if (!group.automaticFailover || !replica) {
      throw new ServiceError('TestFailoverNotAvailableFault', `Test failover is not available for node group ${nodeGroupId} of ${group.id}: it needs automatic failover and a replica.`);
    }
    const primary = shard.members.find((m) => m.role === 'primary')!;
    group.status = 'modifying';
    group.doneAt = this.clock.now() + this.timings.failover;
    group.busy = (async () => {
      if (group.clusterEnabled) {
        await this.withClient(replica, (client) => client.call('CLUSTER', 'FAILOVER'));
        await this.withClient(replica, async (client) => {
          while (!/role:master/.test(await client.info('replication'))) await new Promise((r) => setTimeout(r, 20));
        });
      } else {
        await this.withClient(replica, (client) => client.call('REPLICAOF', 'NO', 'ONE'));
        for (const other of shard.members.filter((m) => m !== replica)) {
          await this.follow(other, replica.server!);
        }
      }
      primary.role = 'replica';
      replica.role = 'primary';
      // The new primary is listed first in its node group, as ElastiCache lists the primary.
      shard.members.splice(shard.members.indexOf(replica), 1);
      shard.members.unshift(replica);
    })().then(() => { group.busy = undefined; }, () => { group.busy = undefined; });
    return group;
  }

  // ---- cache clusters (members) ------------------------------------------------------------

  /** Deletes a standalone cache cluster (a member of a replication group cannot be deleted this way). */
  public async deleteCacheCluster(clusterId: string): Promise<{ group: Group; member: Member }> {
    await this.settle();
    const id = clusterId.toLowerCase();
    const group = this.standalone.get(id);
    if (!group) {
      if ([...this.groups.values()].some((g) => g.members.some((m) => m.id === id))) {
        throw new ServiceError('InvalidCacheClusterState', `Cache cluster ${id} is a member of a replication group; delete the replication group or decrease its replicas instead.`);
      }
      throw new ServiceError('CacheClusterNotFound', `CacheCluster ${clusterId} not found.`, 404);
    }
    if (group.status !== 'available') {
      throw new ServiceError('InvalidCacheClusterState', `Cache cluster ${id} is not in available state (it is ${group.status}).`);
    }
    this.standalone.delete(id);
    const member = group.members[0];
    await member.server?.stop();
    fs.rmSync(path.join(this.nodesDir, member.id), { recursive: true, force: true });
    return { group: { ...group, status: 'deleting' }, member };
  }

  public async describeCacheClusters(clusterId?: string): Promise<Array<{ group: Group; member: Member }>> {
    await this.settle();
    const all = [...this.groups.values(), ...this.standalone.values()].flatMap((group) => group.members.map((member) => ({ group, member })));
    if (clusterId) {
      const found = all.filter(({ member }) => member.id === clusterId.toLowerCase());
      if (found.length === 0) {
        throw new ServiceError('CacheClusterNotFound', `CacheCluster ${clusterId} not found.`, 404);
      }
      return found;
    }
    return all;
  }

  // ---- snapshots ---------------------------------------------------------------------------

  public async createSnapshot(req: { name: string; groupId?: string; clusterId?: string; tags: Array<[string, string]> }): Promise<Snapshot> {
    await this.settle();
    checkName('Snapshot name', req.name);
    const name = req.name.toLowerCase();
    if (!req.groupId === !req.clusterId) {
      throw new ServiceError('InvalidParameterCombination', 'Exactly one of ReplicationGroupId and CacheClusterId must be provided.');
    }
    let group: Group;
    let members: Member[];
    if (req.clusterId) {
      const found = [...this.groups.values(), ...this.standalone.values()].flatMap((g) => g.members.map((m) => ({ g, m })))
        .find(({ m }) => m.id === req.clusterId!.toLowerCase());
      if (!found) {
        throw new ServiceError('CacheClusterNotFound', `CacheCluster ${req.clusterId} not found.`, 404);
      }
      group = found.g;
      members = [found.m];
      if (group.clusterEnabled) {
        throw new ServiceError('InvalidParameterCombination',
          `Cache cluster ${found.m.id} belongs to cluster mode enabled replication group ${group.id}; snapshots of such groups are taken with ReplicationGroupId.`);
      }
      if (group.status !== 'available') {
        throw new ServiceError('InvalidCacheClusterState', `Cache cluster ${found.m.id} is not in available state (its group is ${group.status}).`);
      }
    } else {
      group = this.group(req.groupId);
      this.requireAvailable(group);
      // One node per shard; a replica when the shard has one, leaving the primary to serve writes.
      members = group.shards.map((shard) => shard.members.find((m) => m.role === 'replica') ?? shard.members[0]);
    }
    if (group.nodeType === 'cache.t1.micro') {
      throw new ServiceError('SnapshotFeatureNotSupportedFault', `Snapshots are not supported for cache node type ${group.nodeType}.`);
    }
    if (this.snapshots.has(name)) {
      throw new ServiceError('SnapshotAlreadyExistsFault', `Snapshot ${name} already exists.`);
    }
    const since = this.clock.now() - DAY;
    for (const member of members) {
      const recent = [...this.snapshots.values()].filter((s) => s.source === 'manual' && s.createdAt > since
        && s.nodeSnapshots.some((n) => n.cacheClusterId === member.id)).length;
      if (recent >= MANUAL_SNAPSHOT_QUOTA) {
        throw new ServiceError('SnapshotQuotaExceededFault',
          `The request cannot be processed because it would exceed the maximum number of manual snapshots (${MANUAL_SNAPSHOT_QUOTA}) allowed for node ${member.id} in a 24-hour period.`);
      }
    }
    const snapshot = this.startSnapshot(group, members, name, 'manual');
    for (const [k, v] of req.tags) snapshot.tags.set(k, v);
    return snapshot;
  }

  /**
   * Starts a snapshot of `members` (one per shard): the group turns `snapshotting`, each node saves
   * its RDB.
   */
  private startSnapshot(group: Group, members: Member[], name: string, source: 'manual' | 'automatic'): Snapshot {
    const now = this.clock.now();
    const dir = path.join(this.snapshotsDir, name);
    const fail = this.faults.failSnapshots > 0;
    if (fail) this.faults.failSnapshots--;
    const snapshot: Snapshot = {
      name,
      status: 'creating',
      source,
      groupId: group.id,
      groupDescription: group.description,
      nodeType: group.nodeType,
      engineVersion: group.engineVersion,
      retentionDays: group.retentionDays,
      snapshotWindow: group.snapshotWindow,
      replicasPerShard: group.shards[0].members.length - 1,
      clusterEnabled: group.clusterEnabled,
      automaticFailover: group.automaticFailover,
      nodeSnapshots: members.map((member) => {
        const shard = group.shards.find((s) => s.id === member.shardId)!;
        return { cacheClusterId: member.id, nodeGroupId: shard.id, slots: shard.slots, file: path.join(dir, `${shard.id}.rdb`), createdAt: now };
      }),
      tags: new Map(),
      createdAt: now,
      doneAt: now + this.timings.snapshot + (this.faults.snapshotDelays.shift() ?? 0),
      failed: fail,
    };
    this.snapshots.set(name, snapshot);
    if (group.status === 'available') {
      group.status = 'snapshotting';
      group.doneAt = snapshot.doneAt;
    }
    snapshot.busy = (async () => {
      if (fail) return;
      fs.mkdirSync(dir, { recursive: true });
      await Promise.all(members.map(async (member, i) => {
        const saved = await member.server!.bgsave();
        // The node's dump file becomes the snapshot's: the node never reads it again (it saves to
        // a new file next time), so it is moved, not copied.
        fs.renameSync(saved, snapshot.nodeSnapshots[i].file);
        snapshot.nodeSnapshots[i].size = fs.statSync(snapshot.nodeSnapshots[i].file).size;
      }));
    })().then(
      () => { snapshot.busy = undefined; },
      () => { snapshot.busy = undefined; snapshot.failed = true; },
    );
    return snapshot;
  }

  public async describeSnapshots(filter: {
    groupId?: string; clusterId?: string; name?: string; source?: string;
  }): Promise<Snapshot[]> {
    await this.settle();
    if (filter.name && !this.snapshots.has(filter.name.toLowerCase())) {
      throw new ServiceError('SnapshotNotFoundFault', `Snapshot ${filter.name} not found.`, 404);
    }
    if (filter.source && !['system', 'user'].includes(filter.source)) {
      throw new ServiceError('InvalidParameterValue', `Invalid value for SnapshotSource: ${filter.source}. Valid values are system and user.`);
    }
    return [...this.snapshots.values()]
      .filter((s) => !filter.name || s.name === filter.name.toLowerCase())
      .filter((s) => !filter.groupId || s.groupId === filter.groupId.toLowerCase())
      .filter((s) => !filter.clusterId || s.nodeSnapshots.some((n) => n.cacheClusterId === filter.clusterId!.toLowerCase()))
      .filter((s) => !filter.source || (filter.source === 'system') === (s.source === 'automatic'))
      .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  public async deleteSnapshot(name: string): Promise<Snapshot> {
    await this.settle();
    const snapshot = this.snapshots.get(name.toLowerCase());
    if (!snapshot) {
      throw new ServiceError('SnapshotNotFoundFault', `Snapshot ${name} not found.`, 404);
    }
    if (snapshot.status !== 'available' && snapshot.status !== 'failed') {
      throw new ServiceError('InvalidSnapshotState', `Snapshot ${snapshot.name} is not in available state (it is ${snapshot.status}).`);
    }
    if (snapshot.source === 'automatic') {
      throw new ServiceError('InvalidSnapshotState', `Automatic snapshot ${snapshot.name} cannot be deleted; it expires with the retention period.`);
    }
    this.removeSnapshot(snapshot);
    return { ...snapshot, status: 'deleting' };
  }

  private removeSnapshot(snapshot: Snapshot): void {
    this.snapshots.delete(snapshot.name);
    fs.rmSync(path.join(this.snapshotsDir, snapshot.name), { recursive: true, force: true });
  }

  public async copySnapshot(req: { source: string; target: string; targetBucket?: string; tags: Array<[string, string]> }): Promise<Snapshot> {
    await this.settle();
    const source = this.snapshots.get(req.source.toLowerCase());
    if (!source) {
      throw new ServiceError('SnapshotNotFoundFault', `Snapshot ${req.source} not found.`, 404);
    }
    if (source.status !== 'available') {
      throw new ServiceError('InvalidSnapshotState', `Snapshot ${source.name} is not in available state (it is ${source.status}).`);
    }
    if (req.targetBucket) {
      return this.exportSnapshot(source, req.target, req.targetBucket);
    }
    checkName('Snapshot name', req.target);
    const name = req.target.toLowerCase();
    if (this.snapshots.has(name)) {
      throw new ServiceError('SnapshotAlreadyExistsFault', `Snapshot ${name} already exists.`);
    }
    const now = this.clock.now();
    const dir = path.join(this.snapshotsDir, name);
    fs.mkdirSync(dir, { recursive: true });
    const copy: Snapshot = {
      ...source,
      name,
      status: 'creating',
      source: 'manual',
      nodeSnapshots: source.nodeSnapshots.map((n) => {
        const file = path.join(dir, path.basename(n.file));
        linkOrCopy(n.file, file);
        return { ...n, file };
      }),
      tags: new Map(req.tags),
      createdAt: now,
      doneAt: now + this.timings.copySnapshot,
      busy: undefined,
      failed: false,
    };
    this.snapshots.set(name, copy);
    return copy;
  }

  /**
   * Exports a snapshot to S3 (CopySnapshot with TargetBucket): one `<target>-000N.rdb` object per
   * shard, written by ElastiCache once the copy is done. The source shows `copying` meanwhile.
   */
  private exportSnapshot(source: Snapshot, target: string, bucketName: string): Snapshot {
    if (/^cache\.r6gd\./.test(source.nodeType)) {
      throw new ServiceError('InvalidParameterValue', `Snapshot ${source.name} was taken from data tiering node type ${source.nodeType}; exporting data tiering snapshots to S3 is not supported.`);
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName)) {
      throw new ServiceError('InvalidParameterValue', `The S3 bucket name ${bucketName} is not DNS-compliant.`);
    }
    const bucket = this.options.s3.tryBucket(bucketName);
    if (!bucket) {
      throw new ServiceError('InvalidParameterValue', `No such bucket: ${bucketName}.`);
    }
    if (bucket.region !== this.options.region) {
      throw new ServiceError('InvalidParameterValue', `The S3 bucket ${bucketName} is in ${bucket.region}; an export must go to a bucket in ${this.options.region}, the snapshot's region.`);
    }
    const denied = this.exportDenied(bucket);
    if (denied) {
      throw new ServiceError('InvalidParameterValue', denied);
    }
    const keys = source.nodeSnapshots.map((_, i) => `${target}-${pad(i + 1, 4)}.rdb`);
    const taken = keys.find((k) => bucket.objects.has(k));
    if (taken) {
      throw new ServiceError('InvalidParameterValue', `The S3 object ${taken} already exists in bucket ${bucketName}; an export does not overwrite objects.`);
    }
    source.status = 'copying';
    source.doneAt = this.clock.now() + this.timings.exportSnapshot;
    const files = source.nodeSnapshots.map((n) => n.file);
    source.busy = (async () => {
      // The objects appear when the export's simulated time has passed.
      await new Promise((r) => setTimeout(r, this.clock.real(this.timings.exportSnapshot)));
      files.forEach((file, i) => this.options.s3.putObject(bucket, keys[i], { from: file }, { contentType: 'application/octet-stream' }));
    })().then(() => { source.busy = undefined; }, () => { source.busy = undefined; });
    return source;
  }

  // ---- automatic snapshots -----------------------------------------------------------------

  /**
   * Takes the daily automatic snapshots whose window start fell in (from, to], and expires those
   * older than their group's retention.
   */
  private async runAutomaticSnapshots(from: number, to: number): Promise<void> {
    await this.settle();
    for (const group of this.groups.values()) {
      if (group.retentionDays === 0) continue;
      const [hh, mm] = group.snapshotWindow.split('-')[0].split(':').map(Number);
      const offset = (hh * 60 + mm) * MINUTE;
      for (let day = Math.floor(from / DAY) * DAY; day <= to; day += DAY) {
        const at = day + offset;
        if (at <= from || at > to || at < group.createdAt) continue;
        if (group.status !== 'available') continue;
        const members = group.clusterEnabled
          ? group.shards.map((shard) => shard.members.find((m) => m.role === 'replica') ?? shard.members[0])
          : [group.members.find((m) => m.id === group.snapshottingClusterId) ?? group.members[0]];
        const snapshot = this.startSnapshot(group, members, automaticSnapshotName(group.id, at), 'automatic');
        // The snapshot is dated at its window, and had all the time it needed before `to`.
        (snapshot as { createdAt: number }).createdAt = at;
        snapshot.doneAt = to;
        group.doneAt = to;
        await snapshot.busy;
        await this.settle();
      }
      for (const s of [...this.snapshots.values()]) {
        if (s.source === 'automatic' && s.groupId === group.id && s.createdAt <= to - group.retentionDays * DAY) {
          this.removeSnapshot(s);
        }
      }
    }
  }

  // ---- tags --------------------------------------------------------------------------------

  private tagged(arn: string): Map<string, string> {
    const m = /^arn:aws:elasticache:([^:]+):([^:]+):(replicationgroup|snapshot|cluster):(.+)$/.exec(arn);
    if (!m || m[1] !== this.options.region) {
      throw new ServiceError('InvalidARN', `${arn} is not a valid ARN in ${this.options.region}.`);
    }
    if (m[3] === 'replicationgroup') return this.group(m[4]).tags;
    if (m[3] === 'snapshot') {
      const s = this.snapshots.get(m[4]);
      if (!s) throw new ServiceError('SnapshotNotFoundFault', `Snapshot ${m[4]} not found.`, 404);
      return s.tags;
    }
    throw new ServiceError('InvalidARN', `Tags on ${m[3]} resources are not kept by the local provider.`);
  }

  public async addTags(arn: string, tags: Array<[string, string]>): Promise<Map<string, string>> {
    await this.settle();
    const target = this.tagged(arn);
    for (const [k, v] of tags) target.set(k, v);
    return target;
  }

  public async removeTags(arn: string, keys: string[]): Promise<Map<string, string>> {
    await this.settle();
    const target = this.tagged(arn);
    for (const k of keys) {
      if (!target.has(k)) throw new ServiceError('TagNotFound', `Tag ${k} not found on ${arn}.`, 404);
      target.delete(k);
    }
    return target;
  }

  public async listTags(arn: string): Promise<Map<string, string>> {
    await this.settle();
    return this.tagged(arn);
  }

  // ---- wire shapes -------------------------------------------------------------------------

  public groupShape(group: Group): Record<string, unknown> {
    const endpoint = (m?: Member) => (m?.server ? { Address: m.server.host, Port: m.server.port } : undefined);
    const status = group.status === 'available' || group.status === 'snapshotting' ? 'available' : group.status;
    // With cluster mode enabled, clients use the configuration endpoint; node groups carry their
    // slots, and members have no per-node read endpoint or role in this answer.
    const nodeGroups = group.shards.map((shard) => {
      const primary = shard.members.find((m) => m.role === 'primary');
      const reader = shard.members.find((m) => m.role === 'replica') ?? primary;
      return {
        NodeGroupId: shard.id,
        Status: status,
        PrimaryEndpoint: group.clusterEnabled ? undefined : endpoint(primary),
        ReaderEndpoint: group.clusterEnabled ? undefined : endpoint(reader),
        Slots: group.clusterEnabled ? shard.slots : undefined,
        NodeGroupMembers: shard.members.map((m) => ({
          CacheClusterId: m.id,
          CacheNodeId: '0001',
          ReadEndpoint: group.clusterEnabled ? undefined : endpoint(m),
          PreferredAvailabilityZone: `${this.options.region}a`,
          CurrentRole: group.clusterEnabled ? undefined : m.role,
        })),
      };
    });
    return {
      ReplicationGroupId: group.id,
      Description: group.description,
      Status: group.status,
      MemberClusters: group.members.map((m) => m.id),
      NodeGroups: nodeGroups,
      ConfigurationEndpoint: group.clusterEnabled ? endpoint(group.shards[0].members[0]) : undefined,
      SnapshottingClusterId: group.snapshottingClusterId,
      AutomaticFailover: group.automaticFailover ? 'enabled' : 'disabled',
      MultiAZ: group.multiAz ? 'enabled' : 'disabled',
      SnapshotRetentionLimit: group.retentionDays,
      SnapshotWindow: group.snapshotWindow,
      ClusterEnabled: group.clusterEnabled,
      CacheNodeType: group.nodeType,
      AuthTokenEnabled: group.authTokenEnabled,
      TransitEncryptionEnabled: group.transitEncryption,
      AtRestEncryptionEnabled: group.atRestEncryption,
      ARN: this.arn('replicationgroup', group.id),
      ReplicationGroupCreateTime: new Date(group.createdAt),
      DataTiering: /^cache\.r6gd\./.test(group.nodeType) ? 'enabled' : 'disabled',
      Engine: 'redis',
      ClusterMode: group.clusterEnabled ? 'enabled' : 'disabled',
    };
  }

  public memberShape(group: Group, member: Member, showNodes: boolean): Record<string, unknown> {
    return {
      CacheClusterId: member.id,
      CacheNodeType: group.nodeType,
      Engine: 'redis',
      EngineVersion: group.engineVersion,
      CacheClusterStatus: group.status === 'snapshotting' ? 'snapshotting' : group.status,
      NumCacheNodes: 1,
      PreferredAvailabilityZone: `${this.options.region}a`,
      CacheClusterCreateTime: new Date(member.createdAt),
      PreferredMaintenanceWindow: group.maintenanceWindow,
      CacheNodes: showNodes ? [{
        CacheNodeId: '0001',
        CacheNodeStatus: group.status === 'creating' ? 'creating' : 'available',
        CacheNodeCreateTime: new Date(member.createdAt),
        Endpoint: member.server ? { Address: member.server.host, Port: member.server.port } : undefined,
      }] : undefined,
      ReplicationGroupId: group.standalone ? undefined : group.id,
      SnapshotRetentionLimit: group.snapshottingClusterId === member.id ? group.retentionDays : 0,
      SnapshotWindow: group.snapshotWindow,
      TransitEncryptionEnabled: group.transitEncryption,
      AtRestEncryptionEnabled: group.atRestEncryption,
      ARN: this.arn('cluster', member.id),
    };
  }

  public snapshotShape(s: Snapshot, showNodeGroupConfig: boolean): Record<string, unknown> {
    return {
      SnapshotName: s.name,
      ReplicationGroupId: s.groupId,
      ReplicationGroupDescription: s.groupDescription,
      SnapshotStatus: s.status,
      SnapshotSource: s.source,
      CacheNodeType: s.nodeType,
      Engine: 'redis',
      EngineVersion: s.engineVersion,
      NumCacheNodes: undefined,
      SnapshotRetentionLimit: s.retentionDays,
      SnapshotWindow: s.snapshotWindow,
      NumNodeGroups: s.nodeSnapshots.length,
      AutomaticFailover: s.automaticFailover ? 'enabled' : 'disabled',
      NodeSnapshots: s.nodeSnapshots.map((n) => ({
        CacheClusterId: n.cacheClusterId,
        NodeGroupId: n.nodeGroupId,
        CacheNodeId: '0001',
        NodeGroupConfiguration: showNodeGroupConfig ? { NodeGroupId: n.nodeGroupId, Slots: n.slots, ReplicaCount: s.replicasPerShard } : undefined,
        CacheSize: n.size !== undefined ? `${(n.size / 1024 / 1024).toFixed(3)} MB` : undefined,
        CacheNodeCreateTime: new Date(s.createdAt),
        SnapshotCreateTime: new Date(n.createdAt),
      })),
      ARN: this.arn('snapshot', s.name),
      DataTiering: /^cache\.r6gd\./.test(s.nodeType) ? 'enabled' : 'disabled',
    };
  }

  /** Makes the next `count` calls of `action` fail with `code` (HTTP 400, or 500 for InternalFailure). */
  public failNextCalls(action: string, code: string, count = 1): void {
    this.faults.failCalls.set(action, { code, count, status: code === 'InternalFailure' || code === 'ServiceUnavailable' ? 500 : 400 });
  }

  /** Throws the injected failure for `action`, if one is due. */
  public checkInjected(action: string): void {
    const fault = this.faults.failCalls.get(action);
    if (fault && fault.count > 0) {
      fault.count--;
      throw new ServiceError(fault.code, `Injected fault: ${fault.code}`, fault.status);
    }
  }

  /** Kills a member's redis-server as a crash would (no save, no clean-up). */
  public killNode(cacheClusterId: string): void {
    const member = [...this.groups.values(), ...this.standalone.values()].flatMap((g) => g.members)
      .find((m) => m.id === cacheClusterId.toLowerCase());
    if (!member?.server) {
      throw new Error(`no running node ${cacheClusterId}`);
    }
    member.server.kill();
  }

  /** The RDB files of a snapshot, one per shard (for exports and for tests). */
  public snapshotFiles(name: string): string[] {
    const s = this.snapshots.get(name.toLowerCase());
    if (!s) throw new ServiceError('SnapshotNotFoundFault', `Snapshot ${name} not found.`, 404);
    return s.nodeSnapshots.map((n) => n.file);
  }

  /** Stops every node of every group and removes their files. */
  public async stop(): Promise<void> {
    await Promise.all([...this.groups.values()].map((g) => g.busy?.catch(() => undefined)));
    await Promise.all([...this.groups.values(), ...this.standalone.values()].flatMap((g) => g.members.map((m) => m.server?.stop())));
    this.groups.clear();
    this.standalone.clear();
    this.snapshots.clear();
  }
}
