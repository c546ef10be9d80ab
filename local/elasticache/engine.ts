/**
 * The emulated ElastiCache control plane of one region: the rules of ElastiCache's API over the
 * model (model.ts), with nodes that are real `redis-server` processes (nodes.ts) and snapshots that
 * are real RDB files. It keeps ElastiCache's statuses, error codes (errors.ts) and rules; durations
 * are simulated with the provider's clock. Wire shapes are the API layer's (api.ts, shapes.ts).
 *
 * Supported so far: cluster mode disabled groups, with seeding from and export to the provider's
 * S3. Cluster mode enabled and failover are refused with `NotImplemented` rather than faked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Clock } from '../clock';
import type { DnsLookup } from '../dns';
import { linkOrCopy } from '../files';
import { EndpointNames, endpointLookup, endpointRecords } from './endpoints';
import * as errors from './errors';
import {
  DATA_TIERING, DEFAULT_ENGINE_VERSION, ELASTICACHE_CANONICAL_ID, ENGINE_VERSIONS, evenSlots, EXPORT_ACL_PERMISSIONS, EXPORT_POLICY_ACTIONS,
  MANUAL_SNAPSHOT_QUOTA, NAME, NO_SNAPSHOT_NODE_TYPES, OPT_IN_REGIONS, snapshotServicePrincipal, versionOrder,
} from './facts';
import {
  automaticSnapshotName, DAY, DEFAULT_TIMINGS, Engine as EngineName, Faults, Group, Member, MINUTE, pad, parseSlots, perGiB, Shard, Snapshot, Timings,
} from './model';
import { Nodes } from './nodes';
import { checkWindows, maintenanceWindow, snapshotWindow } from './windows';
import { aclGrants, policyAllowsService } from '../s3/access';
import { S3Store, Bucket } from '../s3/store';

export { ELASTICACHE_CANONICAL_ID, OPT_IN_REGIONS, MANUAL_SNAPSHOT_QUOTA, DEFAULT_TIMINGS, automaticSnapshotName };
export type { Timings, Faults, Group, Member, Snapshot };
export type { GroupStatus, SnapshotStatus } from './model';

export interface EngineOptions {
  readonly region: string;
  readonly account: string;
  readonly dataDir: string;
  readonly clock: Clock;
  readonly timings?: Partial<Timings>;
  readonly s3: S3Store;
}

function checkName(kind: string, value: string, max = 40): void {
  const lower = value.toLowerCase();
  if (lower.length > max || !NAME.test(lower)) {
    throw errors.invalidName(kind, max);
  }
}

/**
 * An AUTH token as ElastiCache accepts it: 16 to 128 printable characters, the only punctuation
 * `!`, `&`, `#`, `$`, `^`, `<`, `>` and `-` (user guide, "Authenticating with the Valkey and Redis
 * OSS AUTH command").
 */
function checkAuthToken(token: string): void {
  if (!/^[A-Za-z0-9!&#$^<>-]{16,128}$/.test(token)) {
    throw errors.invalidParameterValue('Invalid AuthToken provided: it must be 16 to 128 alphanumeric characters or symbols (excluding @, ", and /).');
  }
}

export class ElastiCacheEngine {
  public readonly faults: Faults = { failSnapshots: 0, snapshotDelays: [], failCalls: new Map() };
  private readonly groups = new Map<string, Group>();
  /** Primaries kept as standalone cache clusters (DeleteReplicationGroup with RetainPrimaryCluster), by id. */
  private readonly standalone = new Map<string, Group>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly timings: Timings;
  private readonly clock: Clock;
  private readonly nodes: Nodes;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** The region is in a regional outage (`regionalOutage`): its nodes are dead and its clock work stands still. */
  private down = false;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.nodes = new Nodes(path.join(options.dataDir, 'nodes'), (group) => new EndpointNames(options.account, options.region, group));
    this.nodes.onCrash((member) => this.nodeFailed(member));
    fs.mkdirSync(this.snapshotsDir, { recursive: true });
    this.clock.onAdvance(async (from, to) => {
      // A region in an outage does nothing: no snapshot falls due, no operation completes.
      if (this.down) return;
      await this.finishDue(to);
      await this.runAutomaticSnapshots(from, to);
    });
  }

  private get snapshotsDir(): string {
    return path.join(this.options.dataDir, 'snapshots');
  }

  /** The region this engine emulates. */
  public get region(): string {
    return this.options.region;
  }

  /** The account in its ARNs. */
  public get account(): string {
    return this.options.account;
  }

  /**
   * What the DNS server answers for `name` when it is in this region's endpoint domain
   * (`<r>.cache.amazonaws.com`): the A records of the groups' endpoints (see endpoints.ts).
   */
  public dnsLookup(name: string): DnsLookup | undefined {
    const groups = [...this.groups.values(), ...this.standalone.values()];
    return endpointLookup(this.options.region, endpointRecords(this.options.account, this.options.region, groups), name);
  }

  // ---- status bookkeeping ------------------------------------------------------------------

  /**
   * Brings statuses up to date: work whose simulated duration has passed and whose real work is
   * done completes. It never waits for work under way (as in AWS, long operations run in the
   * background and only the resources they touch are busy), so no call waits on another's work.
   */
  public async settle(): Promise<void> {
    // In a regional outage nothing completes (see "regional outage").
    if (this.down) return;
    const now = this.clock.now();
    for (const group of [...this.groups.values(), ...this.standalone.values()]) {
      if (group.status !== 'deleting' && group.status !== 'snapshotting' && group.doneAt !== undefined && now >= group.doneAt && !group.busy && !group.recovery) {
        group.doneAt = undefined;
        if (group.status === 'creating' || group.status === 'modifying') {
          group.status = 'available';
          group.authTokenStatus = undefined;
        }
        // Replacement nodes are in service once the replacement's time has passed and they are in sync.
        for (const member of group.members) {
          if (member.replacing && member.server?.running) member.replacing = false;
        }
      }
    }
    for (const snapshot of this.snapshots.values()) {
      // A failed snapshot does not wait for its save (one from a dead node may take a while to give up).
      if (snapshot.doneAt !== undefined && now >= snapshot.doneAt && (!snapshot.busy || snapshot.failed)) {
        snapshot.doneAt = undefined;
        const onDone = snapshot.onDone;
        snapshot.onDone = undefined;
        try {
          onDone?.();
        } catch {
          // An export whose objects could not be written has not happened; the source is available again.
        }
        if (snapshot.status === 'creating' || snapshot.status === 'copying') {
          snapshot.status = snapshot.failed ? 'failed' : 'available';
        }
      }
    }
    // A group snapshotting is available again once none of its snapshots is still being taken.
    for (const group of [...this.groups.values(), ...this.standalone.values()]) {
      if (group.status === 'snapshotting' && ![...this.snapshots.values()].some((s) => s.groupId === group.id && s.status === 'creating')) {
        group.status = 'available';
        group.doneAt = undefined;
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
      throw errors.replicationGroupNotFound(id);
    }
    return group;
  }

  private requireAvailable(group: Group): void {
    if (group.status !== 'available') {
      throw errors.invalidReplicationGroupState(group.id, group.status);
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
    port?: number;
    tags: Array<[string, string]>;
  }): Promise<Group> {
    checkName('Replication group id', req.id);
    const id = req.id.toLowerCase();
    if (this.groups.has(id)) {
      throw errors.replicationGroupAlreadyExists(id);
    }
    if (!req.nodeType) {
      throw errors.invalidParameterValue('The parameter CacheNodeType must be provided and must not be blank.');
    }
    if (req.engine && !['redis', 'valkey'].includes(req.engine.toLowerCase())) {
      throw errors.invalidParameterValue(`Engine ${req.engine} does not support replication groups.`);
    }
    // Engine defaults to the seed snapshot's engine, else redis (assumed: the API reference does not
    // say what an omitted Engine means when seeding from a snapshot).
    const seedEngine = req.snapshotName ? this.snapshots.get(req.snapshotName.toLowerCase())?.engine : undefined;
    const engineName: EngineName = (req.engine?.toLowerCase() as EngineName | undefined) ?? seedEngine ?? 'redis';
    const engineVersion = req.engineVersion ?? DEFAULT_ENGINE_VERSION[engineName];
    if (!ENGINE_VERSIONS[engineName].includes(engineVersion)) {
      // The message ElastiCache gives for a version it does not offer, as recalled from the AWS CLI
      // (not in the stored documentation).
      throw errors.invalidParameterCombination(`Cannot find version ${engineVersion} for ${engineName}`);
    }
    const clusterEnabled = req.clusterMode === 'enabled' || (req.numNodeGroups ?? 1) > 1
      || (req.cacheParameterGroupName ?? '').endsWith('.cluster.on');
    const layout = this.layout(clusterEnabled, req);
    const nodes = layout.reduce((n, shard) => n + 1 + shard.replicas, 0);
    const automaticFailover = req.automaticFailover ?? clusterEnabled;
    if (clusterEnabled && !automaticFailover) {
      throw errors.invalidParameterCombination('Automatic failover must be enabled for Redis (cluster mode enabled) replication groups.');
    }
    if (automaticFailover && !clusterEnabled && nodes < 2) {
      throw errors.invalidParameterCombination('Automatic failover requires at least one read replica.');
    }
    if (req.multiAz && !automaticFailover) {
      throw errors.invalidParameterCombination('Multi-AZ requires automatic failover to be enabled.');
    }
    if (req.authToken && !req.transitEncryption) {
      throw errors.invalidParameterCombination('AuthToken can only be set when TransitEncryptionEnabled is true.');
    }
    if (req.authToken !== undefined) checkAuthToken(req.authToken);
    // The API reference gives no range for Port; a TCP port (1-65535) is assumed, 6379 by default.
    const port = req.port ?? 6379;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw errors.invalidParameterValue(`Port must be a TCP port between 1 and 65535, got ${req.port}.`);
    }
    const retentionDays = req.retentionDays ?? 0;
    if (retentionDays < 0 || retentionDays > 35) {
      throw errors.invalidParameterValue(`SnapshotRetentionLimit must be between 0 and 35, got ${retentionDays}.`);
    }
    const windows = checkWindows({ snapshot: req.snapshotWindow, maintenance: req.maintenanceWindow });
    if (retentionDays > 0 && NO_SNAPSHOT_NODE_TYPES.has(req.nodeType)) {
      throw errors.invalidParameterCombination('Snapshots are not supported for cache.t1.micro nodes.');
    }
    let seedRdbs: string[] | undefined;
    if (req.snapshotArns.length > 0) {
      if (req.snapshotName) {
        throw errors.invalidParameterCombination('Only one of SnapshotName and SnapshotArns may be specified.');
      }
      if (clusterEnabled && req.nodeGroupConfiguration.length === 0) {
        throw errors.invalidParameterValue('Slots must be provided when restoring from snapshot ARNs with cluster mode enabled.');
      }
      if (req.snapshotArns.length !== layout.length) {
        throw errors.notImplemented(`The local provider seeds one shard from each RDB file and does not reshard: ${req.snapshotArns.length} RDB files for ${layout.length} shards.`);
      }
      seedRdbs = req.snapshotArns.map((arn) => this.readableSeed(arn));
    }
    let seed: Snapshot | undefined;
    if (req.snapshotName) {
      seed = this.snapshots.get(req.snapshotName.toLowerCase());
      if (!seed) {
        throw errors.snapshotNotFound(req.snapshotName);
      }
      if (seed.status !== 'available') {
        throw errors.invalidSnapshotState(seed.name, seed.status);
      }
      // A snapshot restores into a new group of its own engine, at its version or a newer one
      // ("Restoring from a backup into a new cache"; Redis OSS -> Valkey is an in-place upgrade).
      // ElastiCache's error for a mismatch is not documented: the code and message are assumed.
      if (seed.engine !== engineName) {
        throw errors.invalidParameterCombination(`Snapshot ${seed.name} was taken from engine ${seed.engine}; it can only be restored into a ${seed.engine} replication group, not ${engineName}.`);
      }
      if (versionOrder(seed.engineVersion) > versionOrder(engineVersion)) {
        throw errors.invalidParameterCombination(`Snapshot ${seed.name} was taken from ${seed.engine} ${seed.engineVersion}; it cannot be restored into the older version ${engineVersion}.`);
      }
      if (DATA_TIERING.test(seed.nodeType) && !DATA_TIERING.test(req.nodeType)) {
        throw errors.invalidParameterCombination(`Snapshot ${seed.name} was taken from data tiering node type ${seed.nodeType}; it can only be restored into a data tiering (cache.r6gd.*) node type, not ${req.nodeType}.`);
      }
      if (seed.nodeSnapshots.length !== layout.length) {
        throw errors.notImplemented(`The local provider does not reshard on restore: snapshot ${seed.name} has ${seed.nodeSnapshots.length} shards, the new group ${layout.length}.`);
      }
      seedRdbs = seed.nodeSnapshots.map((n) => n.file);
    }
    const now = this.clock.now();
    const group: Group = {
      id,
      description: req.description,
      status: 'creating',
      nodeType: req.nodeType,
      engine: engineName,
      engineVersion,
      createdAt: now,
      clusterEnabled,
      port,
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
      snapshotWindow: windows.snapshot,
      // CreateReplicationGroup takes no SnapshottingClusterId (CloudFormation sets it with a
      // ModifyReplicationGroup after creating the group); ElastiCache picks a node itself
      // (unverified which): the primary is used here.
      snapshottingClusterId: retentionDays > 0 && !clusterEnabled ? `${id}-001` : undefined,
      maintenanceWindow: windows.maintenance,
      automaticFailover,
      multiAz: req.multiAz ?? false,
      transitEncryption: req.transitEncryption ?? false,
      atRestEncryption: req.atRestEncryption ?? false,
      authTokenEnabled: !!req.authToken,
      authTokens: req.authToken ? [req.authToken] : [],
      tags: new Map(req.tags),
      // A seeded group loads its data first: the largest seed file sets the time (shards load theirs in parallel).
      doneAt: now + this.timings.createGroup
        + (seedRdbs ? perGiB(Math.max(...seedRdbs.map((file) => fs.statSync(file).size)), this.timings.restorePerGiB) : 0),
    };
    group.members.push(...group.shards.flatMap((shard) => shard.members));
    this.groups.set(id, group);
    const seeded = seedRdbs !== undefined;
    group.busy = this.nodes.startGroup(group, seedRdbs).then(
      () => { group.busy = undefined; },
      async () => {
        // An RDB that redis-server cannot load leaves the group restore-failed, as in ElastiCache.
        await this.nodes.stop(group.members);
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
        throw errors.invalidParameterValue(`NumCacheClusters must be between 1 and 6, got ${nodes}.`);
      }
      return [{ id: '0001', slots: '0-16383', replicas: nodes - 1 }];
    }
    if (req.numCacheClusters !== undefined) {
      throw errors.invalidParameterCombination('NumCacheClusters is not valid for cluster mode enabled replication groups; use NumNodeGroups and ReplicasPerNodeGroup.');
    }
    const configs = req.nodeGroupConfiguration;
    const shards = req.numNodeGroups ?? (configs.length || 1);
    if (shards < 1 || shards > 500) {
      throw errors.invalidParameterValue(`NumNodeGroups must be between 1 and 500, got ${shards}.`);
    }
    if (configs.length > 0 && configs.length !== shards) {
      throw errors.invalidParameterValue(`NodeGroupConfiguration has ${configs.length} entries but NumNodeGroups is ${shards}.`);
    }
    const replicas = req.replicasPerNodeGroup ?? 1;
    if (replicas < 0 || replicas > 5) {
      throw errors.invalidParameterValue(`ReplicasPerNodeGroup must be between 0 and 5, got ${replicas}.`);
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
            throw errors.invalidParameterValue(`Slot ${slot} is assigned to node groups ${layout[owner[slot]].id} and ${shard.id}.`);
          }
          owner[slot] = i;
        }
      }
    });
    const missing = owner.indexOf(-1);
    if (missing >= 0) {
      throw errors.invalidParameterValue(`The slots of the node groups do not cover slot ${missing}; every slot 0-16383 must be assigned.`);
    }
    return layout;
  }

  /**
   * Checks that ElastiCache could read an RDB object to seed from (same region, SSE-S3, read access
   * granted to ElastiCache) and returns its file.
   */
  private readableSeed(arn: string): string {
    const m = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/.exec(arn);
    if (!m || arn.includes(',')) {
      throw errors.invalidParameterValue(`Invalid S3 object ARN: ${arn}. Expected arn:aws:s3:::bucket/key.`);
    }
    const bucket = this.options.s3.tryBucket(m[1]);
    if (!bucket) {
      throw errors.invalidParameterValue(`No such bucket: ${m[1]}.`);
    }
    if (bucket.region !== this.options.region) {
      throw errors.invalidParameterValue(`The S3 bucket ${m[1]} is in ${bucket.region}; the RDB file must be in ${this.options.region}, the region of the replication group.`);
    }
    const object = bucket.objects.get(m[2]);
    if (!object) {
      throw errors.invalidParameterValue(`No such object: ${m[2]} in bucket ${m[1]}.`);
    }
    if (object.sse !== 'AES256') {
      throw errors.invalidParameterValue(`The object ${m[2]} is encrypted with ${object.sse}; ElastiCache can only read RDB files encrypted with SSE-S3 (AES256).`);
    }
    const aclRead = aclGrants(object.acl, ELASTICACHE_CANONICAL_ID, 'READ');
    if (!aclRead && !policyAllowsService(bucket, snapshotServicePrincipal(this.options.region), ['s3:GetObject'])) {
      throw errors.invalidParameterValue(`ElastiCache has not been granted READ permission on the S3 object ${m[2]} in bucket ${m[1]}.`);
    }
    return object.file;
  }

  /** Why ElastiCache could not write an export into `bucket`, or undefined when it can. */
  private exportDenied(bucket: Bucket): string | undefined {
    if (OPT_IN_REGIONS.has(this.options.region)) {
      const principal = snapshotServicePrincipal(this.options.region);
      return policyAllowsService(bucket, principal, EXPORT_POLICY_ACTIONS) ? undefined
        : `ElastiCache has not been granted access to the S3 bucket ${bucket.name}: in ${this.options.region} its bucket policy must allow ${principal} ${EXPORT_POLICY_ACTIONS.join(', ')}.`;
    }
    for (const permission of EXPORT_ACL_PERMISSIONS) {
      if (!aclGrants(bucket.acl, ELASTICACHE_CANONICAL_ID, permission)) {
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
    id: string;
    retentionDays?: number;
    snapshotWindow?: string;
    snapshottingClusterId?: string;
    maintenanceWindow?: string;
    authToken?: string;
    authTokenUpdateStrategy?: string;
    applyImmediately?: boolean;
  }): Promise<Group> {
    await this.settle();
    const group = this.group(req.id);
    this.requireAvailable(group);
    if (req.authToken !== undefined || req.authTokenUpdateStrategy !== undefined) {
      return this.modifyAuthToken(group, req);
    }
    if (req.retentionDays !== undefined && (req.retentionDays < 0 || req.retentionDays > 35)) {
      throw errors.invalidParameterValue(`SnapshotRetentionLimit must be between 0 and 35, got ${req.retentionDays}.`);
    }
    if (req.snapshottingClusterId !== undefined && group.clusterEnabled) {
      throw errors.invalidParameterCombination('Cannot set snapshotting cluster for cluster mode enabled replication group.');
    }
    if (req.snapshottingClusterId !== undefined && !group.members.some((m) => m.id === req.snapshottingClusterId!.toLowerCase())) {
      throw errors.invalidParameterValue(`Specified snapshotting cluster ${req.snapshottingClusterId} does not exist.`);
    }
    if (req.snapshotWindow !== undefined || req.maintenanceWindow !== undefined) {
      // Each window given is checked, and the pair the group would have must not overlap.
      if (req.snapshotWindow !== undefined) snapshotWindow(req.snapshotWindow);
      if (req.maintenanceWindow !== undefined) maintenanceWindow(req.maintenanceWindow);
      checkWindows({ snapshot: req.snapshotWindow ?? group.snapshotWindow, maintenance: req.maintenanceWindow ?? group.maintenanceWindow });
    }
    const turningOn = req.retentionDays !== undefined && req.retentionDays > 0 && group.retentionDays === 0;
    if (turningOn && !group.clusterEnabled && group.members.length > 1 && !req.snapshottingClusterId && !group.snapshottingClusterId) {
      throw errors.invalidParameterCombination('Must specify both SnapshotRetentionLimit and SnapshottingClusterId to turn on snapshots.');
    }
    if (req.retentionDays !== undefined) group.retentionDays = req.retentionDays;
    if (req.snapshotWindow !== undefined) group.snapshotWindow = req.snapshotWindow;
    if (req.snapshottingClusterId !== undefined) group.snapshottingClusterId = req.snapshottingClusterId.toLowerCase();
    if (req.maintenanceWindow !== undefined) group.maintenanceWindow = req.maintenanceWindow;
    return group;
  }

  /**
   * An AUTH token change (ElastiCache user guide, "Authenticating with the Valkey and Redis OSS AUTH
   * command", "Modifying the AUTH token on an existing cluster"; ModifyReplicationGroup
   * `AuthTokenUpdateStrategy`): ROTATE (the default) adds the token, and the nodes accept the old
   * and the new one; SET, allowed only after ROTATE, leaves the new one alone. The group is
   * `modifying` meanwhile, with `PendingModifiedValues.AuthTokenStatus` ROTATING or SETTING.
   * Not emulated: DELETE (the move to RBAC user groups), adding a token to a group without AUTH,
   * and a change left for the maintenance window (without ApplyImmediately).
   */
  private modifyAuthToken(group: Group, req: { authToken?: string; authTokenUpdateStrategy?: string; applyImmediately?: boolean }): Group {
    const strategy = req.authTokenUpdateStrategy ?? 'ROTATE';
    if (!['ROTATE', 'SET', 'DELETE'].includes(strategy)) {
      throw errors.invalidParameterValue(`Invalid AuthTokenUpdateStrategy ${strategy}; valid values are SET, ROTATE and DELETE.`);
    }
    if (strategy === 'DELETE') {
      throw errors.notImplemented('The local provider does not emulate AuthTokenUpdateStrategy DELETE (moving a group from AUTH to RBAC user groups).');
    }
    if (req.authToken === undefined) {
      throw errors.invalidParameterCombination(`AuthTokenUpdateStrategy ${strategy} must be specified with AuthToken.`);
    }
    if (!group.transitEncryption) {
      throw errors.invalidParameterCombination('AuthToken can only be set when TransitEncryptionEnabled is true.');
    }
    checkAuthToken(req.authToken);
    if (group.authTokens.length === 0) {
      throw errors.notImplemented('The local provider does not emulate adding an AUTH token to a group created without one.');
    }
    if (!req.applyImmediately) {
      throw errors.notImplemented('The local provider applies AUTH token changes only with ApplyImmediately.');
    }
    if (strategy === 'SET' && group.authTokens.length < 2) {
      // "SET - allowed only after ROTATE" (ModifyReplicationGroup, AuthTokenUpdateStrategy).
      throw errors.invalidParameterCombination('AuthTokenUpdateStrategy SET is allowed only after ROTATE.');
    }
    // (unverified) A ROTATE while two tokens are valid keeps the newest two: the documentation
    // speaks of the old and the new token only.
    group.authTokens = strategy === 'SET' ? [req.authToken] : [...group.authTokens.filter((t) => t !== req.authToken), req.authToken].slice(-2);
    group.authTokenStatus = strategy === 'SET' ? 'SETTING' : 'ROTATING';
    group.authTokenModifiedAt = this.clock.now();
    group.status = 'modifying';
    group.doneAt = this.clock.now() + this.timings.authToken;
    group.busy = this.nodes.setAuthTokens(group).then(() => { group.busy = undefined; }, () => { group.busy = undefined; });
    this.after(this.timings.authToken);
    return group;
  }

  public async deleteReplicationGroup(req: { id: string; finalSnapshotName?: string; retainPrimaryCluster?: boolean }): Promise<Group> {
    await this.settle();
    const group = this.group(req.id);
    if (req.retainPrimaryCluster && group.clusterEnabled) {
      throw errors.invalidParameterCombination('RetainPrimaryCluster is not valid for cluster mode enabled replication groups.');
    }
    if (!['available', 'create-failed', 'restore-failed'].includes(group.status)) {
      throw errors.invalidReplicationGroupState(group.id, group.status);
    }
    let final: Snapshot | undefined;
    if (req.finalSnapshotName) {
      if (group.status !== 'available') {
        throw errors.finalSnapshotNeedsAvailable(group.id, group.status);
      }
      checkName('Snapshot name', req.finalSnapshotName);
      if (this.snapshots.has(req.finalSnapshotName.toLowerCase())) {
        throw errors.snapshotAlreadyExists(req.finalSnapshotName);
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
        // A node that failed meanwhile (and failed the final snapshot) is replaced now.
        this.recover(group);
        return;
      }
      // With RetainPrimaryCluster the primary stays, as a cache cluster of its own.
      const kept = req.retainPrimaryCluster ? group.members.find((m) => m.role === 'primary') : undefined;
      const gone = group.members.filter((m) => m !== kept);
      await this.nodes.remove(gone);
      if (kept) {
        await this.nodes.detach(kept);
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
      throw errors.nodeGroupNotFound(nodeGroupId, group.id);
    }
    const replica = shard.members.find((m) => m.role === 'replica');
    if (!group.automaticFailover || !replica) {
      throw errors.testFailoverNotAvailable(nodeGroupId, group.id);
    }
    group.status = 'modifying';
    group.doneAt = this.clock.now() + this.timings.failover;
    group.busy = this.promote(group, shard, replica).then(() => { group.busy = undefined; }, () => { group.busy = undefined; });
    return group;
  }

  /**
   * Makes `replica` its shard's primary (TestFailover, and an automatic failover after the
   * primary's node failed): the nodes fail over, then the roles change; the old primary becomes a
   * replica.
   */
  private async promote(group: Group, shard: Shard, replica: Member): Promise<void> {
    const primary = shard.members.find((m) => m.role === 'primary')!;
    await this.nodes.failover(group, shard, replica);
    primary.role = 'replica';
    replica.role = 'primary';
    // The new primary is listed first in its node group, as ElastiCache lists the primary.
    shard.members.splice(shard.members.indexOf(replica), 1);
    shard.members.unshift(replica);
  }

  // ---- node failures -----------------------------------------------------------------------
  //
  // What ElastiCache does when a node fails, from the user guide's "Mitigating Failures when
  // Running Valkey or Redis OSS" (disaster-recovery-resiliency / FaultTolerance page), confirmed:
  // - a failed replica is taken offline and a replacement node is launched in its place, which
  //   synchronizes with the primary; the other nodes keep serving meanwhile;
  // - a failed primary with automatic failover (AutomaticFailoverEnabled: "whether a read-only
  //   replica is automatically promoted to read/write primary if the existing primary fails",
  //   CreateReplicationGroup API reference): a replica is promoted, the other replicas sync with
  //   it, the primary endpoint follows the promoted replica ("Minimizing downtime ... with
  //   Multi-AZ": ElastiCache propagates the promoted replica's DNS name), and a replacement node
  //   is launched for the failed one and syncs with the new primary. TestFailover's reference
  //   lists the events of that sequence: failover completed, "Recovering cache nodes",
  //   "Finished recovery for cache nodes";
  // - a failed primary without automatic failover: a new primary node is created in its place and
  //   synced from one of the existing replicas; until that sync is done there is no primary to
  //   write to (replicas still serve reads);
  // - a node with no replica: its data lives only in memory; "if the underlying physical server
  //   experiences a hardware failure, the data in the cache is lost" and Redis restarts with a
  //   cold cache (user guide, "Append only files (AOF)"): the replacement starts empty.
  // Assumed (not documented): while a node is replaced the group and its members show
  // `modifying` (as during a failover), the replaced node shows the node status `creating` ("the
  // node is being created; the node is inaccessible while it is being created", "Viewing
  // ElastiCache node status") with no endpoint, and the replacement takes `timings.replaceNode`
  // ("typically completes within a few minutes", ElastiCache maintenance FAQ); the replica
  // promoted is the first one running (ElastiCache picks the one with the least replication lag);
  // a node that cannot be replaced after three attempts shows `restore-failed` ("the node has
  // failed and is unable to recover", same page). Events (DescribeEvents) are not emulated.

  /** A member's redis-server exited without being asked to: ElastiCache replaces the node. */
  private nodeFailed(member: Member): void {
    // In a regional outage nothing is replaced: the nodes come back when the region does.
    if (this.stopped || this.down) return;
    const group = [...this.groups.values(), ...this.standalone.values()].find((g) => g.members.includes(member));
    if (!group) return;
    // A snapshot being taken from the node fails, now (its save never completes).
    const now = this.clock.now();
    for (const snapshot of this.snapshots.values()) {
      if (snapshot.status === 'creating' && snapshot.nodeSnapshots.some((n) => n.cacheClusterId === member.id)) {
        snapshot.failed = true;
        snapshot.doneAt = Math.min(snapshot.doneAt ?? now, now);
      }
    }
    // A group whose nodes are still starting ends create-failed (or restore-failed); one being
    // deleted goes (and if it stays, because its final snapshot failed, its nodes are replaced then).
    if (group.status === 'creating' && group.busy) return;
    if (['deleting', 'create-failed', 'restore-failed'].includes(group.status)) return;
    this.recover(group);
  }

  /**
   * Shows the group's failed nodes as being replaced and, once the group's operation under way
   * (if any) is over, replaces them (see above). Failures while this runs are picked up by it.
   */
  private recover(group: Group): void {
    if (this.down) return;
    const failed = group.members.filter((m) => !m.server?.running && !m.unrecoverable);
    if (failed.length === 0) return;
    const now = this.clock.now();
    // The end of an operation the replacement joins (a creation, a failover, another replacement);
    // a snapshot's end is not one (its snapshot goes on, or failed with the node).
    const joined = group.status === 'creating' || group.status === 'modifying' ? group.doneAt ?? 0 : 0;
    if (group.status !== 'creating') group.status = 'modifying';
    for (const member of failed) member.replacing = true;
    const promotes = group.automaticFailover && failed.some((m) => m.role === 'primary');
    group.doneAt = Math.max(joined, now + (promotes ? this.timings.failover : 0) + this.timings.replaceNode);
    if (group.recovery) return;
    const recovery = (async () => {
      for (let failures = 0; ;) {
        while (group.busy) await group.busy.catch(() => undefined);
        if (this.stopped || this.down || !this.holds(group) || group.status === 'deleting') return;
        const dead = group.members.filter((m) => !m.server?.running && !m.unrecoverable);
        if (dead.length === 0) return;
        try {
          // Every shard's primary first: a Redis Cluster is whole again (all slots served) only then.
          for (const shard of group.shards) await this.recoverPrimary(group, shard);
          for (const shard of group.shards) await this.recoverReplicas(group, shard);
        } catch {
          if (++failures >= 3) {
            for (const m of group.members.filter((x) => !x.server?.running)) {
              m.unrecoverable = true;
              m.replacing = false;
            }
            return;
          }
        }
      }
    })();
    group.recovery = recovery.finally(() => { group.recovery = undefined; });
  }

  /** Whether `group` is still one of this engine's (not deleted meanwhile). */
  private holds(group: Group): boolean {
    return this.groups.get(group.id) === group || [...this.standalone.values()].includes(group);
  }

  /** Gives a shard whose primary failed a primary again: by failover when it can, else by a replacement. */
  private async recoverPrimary(group: Group, shard: Shard): Promise<void> {
    const running = (m: Member) => !!m.server?.running;
    const primary = shard.members.find((m) => m.role === 'primary')!;
    if (running(primary)) return;
    const replica = shard.members.find((m) => m.role === 'replica' && running(m));
    if (group.automaticFailover && replica) {
      await this.promote(group, shard, replica);
      return;
    }
    // Synced from a replica when there is one; otherwise empty: the data is lost.
    await this.nodes.replace(group, shard, primary, replica);
    if (!group.clusterEnabled) {
      for (const other of shard.members.filter((m) => m !== primary && running(m))) {
        await this.nodes.follow(other, primary);
      }
    }
  }

  /** Replaces a shard's failed replicas, synced from its primary. */
  private async recoverReplicas(group: Group, shard: Shard): Promise<void> {
    const primary = shard.members.find((m) => m.role === 'primary')!;
    for (const member of shard.members.filter((m) => m.role === 'replica' && !m.server?.running)) {
      await this.nodes.replace(group, shard, member, primary);
    }
  }

  // ---- cache clusters (members) ------------------------------------------------------------

  /** Deletes a standalone cache cluster (a member of a replication group cannot be deleted this way). */
  public async deleteCacheCluster(clusterId: string): Promise<{ group: Group; member: Member }> {
    await this.settle();
    const id = clusterId.toLowerCase();
    const group = this.standalone.get(id);
    if (!group) {
      if ([...this.groups.values()].some((g) => g.members.some((m) => m.id === id))) {
        throw errors.invalidCacheClusterState(`Cache cluster ${id} is a member of a replication group; delete the replication group or decrease its replicas instead.`);
      }
      throw errors.cacheClusterNotFound(clusterId);
    }
    if (group.status !== 'available') {
      throw errors.invalidCacheClusterState(`Cache cluster ${id} is not in available state (it is ${group.status}).`);
    }
    this.standalone.delete(id);
    const member = group.members[0];
    await this.nodes.remove([member]);
    return { group: { ...group, status: 'deleting' }, member };
  }

  public async describeCacheClusters(clusterId?: string): Promise<Array<{ group: Group; member: Member }>> {
    await this.settle();
    const all = [...this.groups.values(), ...this.standalone.values()].flatMap((group) => group.members.map((member) => ({ group, member })));
    if (clusterId) {
      const found = all.filter(({ member }) => member.id === clusterId.toLowerCase());
      if (found.length === 0) {
        throw errors.cacheClusterNotFound(clusterId);
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
      throw errors.invalidParameterCombination('Exactly one of ReplicationGroupId and CacheClusterId must be provided.');
    }
    let group: Group;
    let members: Member[];
    if (req.clusterId) {
      const found = [...this.groups.values(), ...this.standalone.values()].flatMap((g) => g.members.map((m) => ({ g, m })))
        .find(({ m }) => m.id === req.clusterId!.toLowerCase());
      if (!found) {
        throw errors.cacheClusterNotFound(req.clusterId);
      }
      group = found.g;
      members = [found.m];
      if (group.clusterEnabled) {
        throw errors.invalidParameterCombination(`Cache cluster ${found.m.id} belongs to cluster mode enabled replication group ${group.id}; snapshots of such groups are taken with ReplicationGroupId.`);
      }
      if (group.status !== 'available') {
        throw errors.invalidCacheClusterState(`Cache cluster ${found.m.id} is not in available state (its group is ${group.status}).`);
      }
    } else {
      group = this.group(req.groupId);
      this.requireAvailable(group);
      // One node per shard; a replica when the shard has one, leaving the primary to serve writes.
      members = group.shards.map((shard) => shard.members.find((m) => m.role === 'replica') ?? shard.members[0]);
    }
    if (NO_SNAPSHOT_NODE_TYPES.has(group.nodeType)) {
      throw errors.snapshotFeatureNotSupported(group.nodeType);
    }
    if (this.snapshots.has(name)) {
      throw errors.snapshotAlreadyExists(name);
    }
    const since = this.clock.now() - DAY;
    for (const member of members) {
      const recent = [...this.snapshots.values()].filter((s) => s.source === 'manual' && s.createdAt > since
        && s.nodeSnapshots.some((n) => n.cacheClusterId === member.id)).length;
      if (recent >= MANUAL_SNAPSHOT_QUOTA) {
        throw errors.snapshotQuotaExceeded(MANUAL_SNAPSHOT_QUOTA, member.id);
      }
    }
    const snapshot = this.startSnapshot(group, members, name, 'manual', req.clusterId ? members[0].id : undefined);
    for (const [k, v] of req.tags) snapshot.tags.set(k, v);
    return snapshot;
  }

  /**
   * Starts a snapshot of `members` (one per shard): the group turns `snapshotting`, each node saves
   * its RDB.
   */
  private startSnapshot(group: Group, members: Member[], name: string, source: 'manual' | 'automatic', cacheClusterId?: string,
    sized = true): Snapshot {
    const now = this.clock.now();
    const base = now + this.timings.snapshot + (this.faults.snapshotDelays.shift() ?? 0);
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
      engine: group.engine,
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
      cacheClusterId,
      doneAt: base,
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
      () => {
        snapshot.busy = undefined;
        // The size of the data is known once it is saved: the snapshot takes longer by the largest
        // file's share (shards save in parallel). A snapshot whose node failed meanwhile ends now.
        if (!sized || snapshot.failed || snapshot.doneAt === undefined) return;
        const largest = Math.max(...snapshot.nodeSnapshots.map((n) => n.size ?? 0));
        snapshot.doneAt = Math.max(snapshot.doneAt, base + perGiB(largest, this.timings.snapshotPerGiB));
        if (group.status === 'snapshotting' && group.doneAt !== undefined) group.doneAt = Math.max(group.doneAt, snapshot.doneAt);
      },
      () => { snapshot.busy = undefined; snapshot.failed = true; },
    );
    return snapshot;
  }

  public async describeSnapshots(filter: {
    groupId?: string; clusterId?: string; name?: string; source?: string;
  }): Promise<Snapshot[]> {
    await this.settle();
    if (filter.name && !this.snapshots.has(filter.name.toLowerCase())) {
      throw errors.snapshotNotFound(filter.name);
    }
    if (filter.source && !['system', 'user'].includes(filter.source)) {
      throw errors.invalidParameterValue(`Invalid value for SnapshotSource: ${filter.source}. Valid values are system and user.`);
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
      throw errors.snapshotNotFound(name);
    }
    if (snapshot.status !== 'available' && snapshot.status !== 'failed') {
      throw errors.invalidSnapshotState(snapshot.name, snapshot.status);
    }
    if (snapshot.source === 'automatic') {
      throw errors.automaticSnapshotNotDeletable(snapshot.name);
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
      throw errors.snapshotNotFound(req.source);
    }
    if (source.status !== 'available') {
      throw errors.invalidSnapshotState(source.name, source.status);
    }
    if (req.targetBucket) {
      return this.exportSnapshot(source, req.target, req.targetBucket);
    }
    checkName('Snapshot name', req.target);
    const name = req.target.toLowerCase();
    if (this.snapshots.has(name)) {
      throw errors.snapshotAlreadyExists(name);
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
      onDone: undefined,
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
    if (DATA_TIERING.test(source.nodeType)) {
      throw errors.invalidParameterValue(`Snapshot ${source.name} was taken from data tiering node type ${source.nodeType}; exporting data tiering snapshots to S3 is not supported.`);
    }
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucketName)) {
      throw errors.invalidParameterValue(`The S3 bucket name ${bucketName} is not DNS-compliant.`);
    }
    const bucket = this.options.s3.tryBucket(bucketName);
    if (!bucket) {
      throw errors.invalidParameterValue(`No such bucket: ${bucketName}.`);
    }
    if (bucket.region !== this.options.region) {
      throw errors.invalidParameterValue(`The S3 bucket ${bucketName} is in ${bucket.region}; an export must go to a bucket in ${this.options.region}, the snapshot's region.`);
    }
    const denied = this.exportDenied(bucket);
    if (denied) {
      throw errors.invalidParameterValue(denied);
    }
    const keys = source.nodeSnapshots.map((_, i) => `${target}-${pad(i + 1, 4)}.rdb`);
    const taken = keys.find((k) => bucket.objects.has(k));
    if (taken) {
      throw errors.invalidParameterValue(`The S3 object ${taken} already exists in bucket ${bucketName}; an export does not overwrite objects.`);
    }
    source.status = 'copying';
    // The export copies every shard's file: their total sets the time (assumed: how ElastiCache
    // spreads the copy of several files is not documented).
    const bytes = source.nodeSnapshots.reduce((sum, n) => sum + (n.size ?? fs.statSync(n.file).size), 0);
    const duration = this.timings.exportSnapshot + perGiB(bytes, this.timings.exportPerGiB);
    source.doneAt = this.clock.now() + duration;
    const files = source.nodeSnapshots.map((n) => n.file);
    // The objects appear when the export's simulated time has passed: on the next call after it, a
    // jump of the clock past it, or the timer set for it. Only the source snapshot is busy meanwhile.
    source.onDone = () => files.forEach((file, i) => this.options.s3.putObject(bucket, keys[i], { from: file }, { contentType: 'application/octet-stream' }));
    this.after(duration);
    return source;
  }

  /**
   * Waits for the real work (saves, node starts) of operations due by `to`: when the clock jumps
   * past an operation's end, the operation has had all the time it needed. Calls never wait for
   * work; only a jump of the clock does. The work is bounded (nodes.ts), so this is too.
   */
  private async finishDue(to: number): Promise<void> {
    const due = [...this.groups.values(), ...this.standalone.values(), ...this.snapshots.values()]
      .filter((x) => x.busy && x.doneAt !== undefined && x.doneAt <= to);
    const recoveries = [...this.groups.values(), ...this.standalone.values()]
      .filter((g) => g.recovery && g.doneAt !== undefined && g.doneAt <= to).map((g) => g.recovery!);
    await Promise.all([...due.map((x) => x.busy!.catch(() => undefined)), ...recoveries]);
  }

  /** Settles once `simulatedMs` have passed (a real timer, cleared on stop and in an outage). */
  private after(simulatedMs: number): void {
    if (this.down) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.settle().catch(() => undefined);
    }, Math.ceil(this.clock.real(simulatedMs)) + 1);
    this.timers.add(timer);
  }

  // ---- automatic snapshots -----------------------------------------------------------------

  /**
   * Takes the daily automatic snapshots whose window start fell in (from, to], and expires those
   * older than their group's retention.
   */
  private async runAutomaticSnapshots(from: number, to: number): Promise<void> {
    if (this.stopped) return;
    await this.settle();
    for (const group of this.groups.values()) {
      if (group.retentionDays === 0) continue;
      const [hh, mm] = group.snapshotWindow.split('-')[0].split(':').map(Number);
      const offset = (hh * 60 + mm) * MINUTE;
      for (let day = Math.floor(from / DAY) * DAY; day <= to; day += DAY) {
        const at = day + offset;
        if (at <= from || at > to || at < group.createdAt) continue;
        if (group.status !== 'available' || this.stopped) continue;
        // The day's snapshot replaces the one that has been kept `retention` days ("a snapshot taken
        // today is retained for N days before being deleted": SnapshotRetentionLimit): never more
        // than N are held, not even while the new one is being taken.
        this.expireAutomaticSnapshots(group, at);
        const members = group.clusterEnabled
          ? group.shards.map((shard) => shard.members.find((m) => m.role === 'replica') ?? shard.members[0])
          : [group.members.find((m) => m.id === group.snapshottingClusterId) ?? group.members[0]];
        // Its time is set here (to), not by its size: the clock jumped past all it needed.
        const snapshot = this.startSnapshot(group, members, automaticSnapshotName(group.id, at), 'automatic', undefined, false);
        // The snapshot is dated at its window, and had all the time it needed before `to`.
        (snapshot as { createdAt: number }).createdAt = at;
        snapshot.doneAt = to;
        group.doneAt = to;
        await snapshot.busy;
        await this.settle();
      }
      this.expireAutomaticSnapshots(group, to);
    }
  }

  /** Removes the group's automatic snapshots taken `retention` days or more before `at`. */
  private expireAutomaticSnapshots(group: Group, at: number): void {
    for (const s of [...this.snapshots.values()]) {
      if (s.source === 'automatic' && s.groupId === group.id && s.createdAt <= at - group.retentionDays * DAY) {
        this.removeSnapshot(s);
      }
    }
  }

  // ---- tags --------------------------------------------------------------------------------

  private tagged(arn: string): Map<string, string> {
    const m = /^arn:aws:elasticache:([^:]+):([^:]+):(replicationgroup|snapshot|cluster):(.+)$/.exec(arn);
    if (!m || m[1] !== this.options.region) {
      throw errors.invalidArn(`${arn} is not a valid ARN in ${this.options.region}.`);
    }
    if (m[3] === 'replicationgroup') return this.group(m[4]).tags;
    if (m[3] === 'snapshot') {
      const s = this.snapshots.get(m[4]);
      if (!s) throw errors.snapshotNotFound(m[4]);
      return s.tags;
    }
    throw errors.invalidArn(`Tags on ${m[3]} resources are not kept by the local provider.`);
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
      if (!target.has(k)) throw errors.tagNotFound(k, arn);
      target.delete(k);
    }
    return target;
  }

  public async listTags(arn: string): Promise<Map<string, string>> {
    await this.settle();
    return this.tagged(arn);
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
      throw errors.injected(fault.code, fault.status);
    }
  }

  /**
   * Kills a member's redis-server as a crash would (no save, no clean-up); ElastiCache then
   * replaces the node (see "node failures"). Resolves once the failure has been seen: the group
   * shows `modifying` and the member is being replaced.
   */
  public async killNode(cacheClusterId: string): Promise<void> {
    const member = [...this.groups.values(), ...this.standalone.values()].flatMap((g) => g.members)
      .find((m) => m.id === cacheClusterId.toLowerCase());
    const server = member?.server;
    if (!server?.running) {
      throw new Error(`no running node ${cacheClusterId}`);
    }
    const seen = new Promise<void>((resolve) => server.onExit(() => resolve()));
    server.kill();
    await seen;
  }

  // ---- regional outage ---------------------------------------------------------------------
  //
  // What a regional outage does to ElastiCache is not documented (AWS describes Regions as isolated
  // from each other, "Resilience in Amazon ElastiCache"). The emulator takes the worst case a DR
  // drill plans for, as an ASSUMPTION: every node of the region loses power at once (SIGKILL: no
  // final save), work in flight fails (snapshots being taken end `failed`, exports never write
  // their objects), and nothing happens in the region until it comes back: no automatic snapshot,
  // no node replacement, no operation completes. Its API is unreachable (the provider answers
  // 503 ServiceUnavailable, see LocalProvider.regionalOutage).

  /** Whether the region is in a regional outage. */
  public get inOutage(): boolean {
    return this.down;
  }

  /**
   * Starts a regional outage: kills every node of every group (running or starting), fails the
   * work in flight and stops the engine's clock work, as above. Resolves once every node has
   * exited. A second call does nothing.
   */
  public async regionalOutage(): Promise<void> {
    if (this.down || this.stopped) return;
    this.down = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const snapshot of this.snapshots.values()) {
      if (snapshot.status === 'copying') {
        // An export in flight never writes its objects; its source snapshot is intact.
        snapshot.onDone = undefined;
        snapshot.doneAt = undefined;
        snapshot.status = 'available';
      } else if (snapshot.status === 'creating') {
        // A snapshot being saved (or copied) is lost with its node.
        snapshot.failed = true;
        snapshot.doneAt = undefined;
        snapshot.status = 'failed';
      }
    }
    await this.nodes.powerOff();
  }

  /**
   * Ends the regional outage: the engine's clock work resumes and every group whose nodes died is
   * recovered as after a node failure (see "node failures"). With every node of a shard gone there
   * is no replica to sync from, so the nodes come back empty: the data in memory was lost with the
   * power (ASSUMPTION, as above).
   */
  public async endRegionalOutage(): Promise<void> {
    if (!this.down || this.stopped) return;
    this.down = false;
    this.nodes.powerOn();
    await this.settle();
    for (const group of [...this.groups.values(), ...this.standalone.values()]) {
      if (['available', 'modifying', 'snapshotting'].includes(group.status)) this.recover(group);
    }
  }

  /** The RDB files of a snapshot, one per shard (for exports and for tests). */
  public snapshotFiles(name: string): string[] {
    const s = this.snapshots.get(name.toLowerCase());
    if (!s) throw errors.snapshotNotFound(name);
    return s.nodeSnapshots.map((n) => n.file);
  }

  /**
   * Stops every node of every group, including nodes still starting, and ends every wait on them;
   * bounded whatever state the nodes are in (a dead node cannot hold it up).
   */
  public async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.nodes.stopAll();
    // Work under way fails fast once its nodes are gone; wait for it a little so nothing writes into
    // folders about to be removed.
    const work = [...this.groups.values(), ...this.standalone.values(), ...this.snapshots.values()].map((x) => x.busy?.catch(() => undefined));
    work.push(...[...this.groups.values(), ...this.standalone.values()].map((g) => g.recovery));
    await Promise.race([Promise.all(work), new Promise((r) => setTimeout(r, 5_000).unref())]);
    this.groups.clear();
    this.standalone.clear();
    this.snapshots.clear();
  }
}
