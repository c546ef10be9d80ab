/**
 * The redis-server processes behind the emulated nodes: starting a group's nodes (replicas
 * following their primary, or a Redis Cluster with its slots), failing over, stopping.
 */
import * as fs from 'fs';
import * as path from 'path';
import type Redis from 'ioredis';
import { linkOrCopy } from '../files';
import { EndpointNames } from './endpoints';
import { Group, Member, parseSlots, Shard } from './model';
import { NODE_WAIT_MS, RedisServer, RedisServerOptions, waitOn } from '../redis/server';

/**
 * Every wait on a node is bounded (NODE_WAIT_MS, real time) and ends early when a node it depends on
 * dies, so a dead node fails the operation instead of hanging it; `stop` ends every wait and stops
 * every server, including those still starting.
 */
export class Nodes {
  private readonly aborter = new AbortController();
  /**
   * What new starts listen to: aborted with `aborter` (stop), and by a power loss (`powerOff`),
   * after which `powerOn` gives a fresh one.
   */
  private starts = new AbortController();
  private readonly servers = new Set<RedisServer>();
  private readonly crashListeners: Array<(member: Member) => void> = [];

  /**
   * @param names the endpoint names of a group (for TLS certificates, and for the node names a TLS
   *   cluster gives its clients)
   */
  constructor(private readonly dir: string, private readonly names: (group: Group) => EndpointNames) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /**
   * How a member's server runs: on the group's port at an address of its own, with the group's AUTH
   * tokens, and with TLS for the member's endpoint names when the group has in-transit encryption.
   */
  private serverOptions(group: Group, member: Member, dir: string): Omit<RedisServerOptions, 'signal' | 'track'> {
    const names = this.names(group);
    return {
      dir,
      cluster: group.clusterEnabled,
      port: group.port,
      authTokens: group.authTokens,
      tls: group.transitEncryption,
      tlsNames: group.transitEncryption ? names.certificateNames(member.id) : undefined,
      announceHostname: group.transitEncryption && group.clusterEnabled ? names.node(member.id) : undefined,
    };
  }

  /** Calls `listener` when a member's server exits without being asked to (a crash or a kill). */
  public onCrash(listener: (member: Member) => void): void {
    this.crashListeners.push(listener);
  }

  /** Starts the server of `member`, watched for crashes. */
  public async startServer(member: Member, options: Omit<RedisServerOptions, 'signal' | 'track'>): Promise<RedisServer> {
    const starts = this.starts;
    const server = await RedisServer.start({ ...options, signal: starts.signal, track: this.servers });
    if (starts.signal.aborted) {
      // Stopped meanwhile, or the power went: a node that came up anyway goes the same way.
      if (this.aborter.signal.aborted) await server.stop(); else await server.killAndWait();
      throw new Error(`node ${member.id} was not started: ${this.aborter.signal.aborted ? 'stopped' : 'power lost'}`);
    }
    member.server = server;
    server.onExit((expected) => {
      if (!expected && !this.aborter.signal.aborted && member.server === server) {
        for (const listener of this.crashListeners) listener(member);
      }
    });
    return server;
  }

  /** Waits until `probe` holds, failing when one of `members`' servers dies or after the bound. */
  private wait(what: string, members: Member[], probe: () => Promise<boolean>, intervalMs = 20): Promise<void> {
    return waitOn(what, members.map((m) => m.server), probe, { timeoutMs: NODE_WAIT_MS, intervalMs, signal: this.aborter.signal });
  }

  /** The folder of a node's files. */
  public nodeDir(memberId: string): string {
    return path.join(this.dir, memberId);
  }

  /** Runs `work` with a client of `member`'s server, released afterwards. */
  public async withClient<T>(member: Member, work: (client: Redis) => Promise<T>): Promise<T> {
    const client = member.server!.client();
    try {
      return await work(client);
    } finally {
      member.server!.release(client);
    }
  }

  /** Starts the nodes of a new group, seeded with one RDB per shard when given. */
  public async startGroup(group: Group, seedRdbs?: string[]): Promise<void> {
    await (group.clusterEnabled ? this.startCluster(group, seedRdbs) : this.startNodes(group, seedRdbs?.[0]));
    // A node that died while the others were still starting (the engine leaves crashes during the
    // creation to this start): the creation failed, even when the rest came up.
    const dead = group.members.filter((m) => !m.server?.running);
    if (dead.length > 0) throw new Error(`${dead.map((m) => m.id).join(', ')} died while ${group.id} was created`);
  }

  /**
   * Starts a Redis Cluster: one cluster-enabled redis-server per member, each shard's primary
   * seeded with its RDB when given and given its slots, the nodes introduced to each other,
   * replicas attached to their primary; waits until the cluster state is ok on every node.
   */
  private async startCluster(group: Group, seedRdbs?: string[]): Promise<void> {
    await Promise.all(group.members.map(async (member) => {
      const dir = this.nodeDir(member.id);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      const shardIndex = group.shards.findIndex((s) => s.id === member.shardId);
      if (member.role === 'primary' && seedRdbs) {
        linkOrCopy(seedRdbs[shardIndex], path.join(dir, 'dump.rdb'));
      }
      await this.startServer(member, this.serverOptions(group, member, dir));
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
    await Promise.all(group.members.map((member) => this.withClient(member, (client) =>
      this.wait(`cluster nodes of ${group.id} meeting`, group.members, async () => {
        const known = String(await client.call('CLUSTER', 'NODES')).trim().split('\n')
          .filter((line) => !line.includes('handshake') && !line.includes('noaddr'));
        return known.length === group.members.length;
      }))));
    for (const shard of group.shards) {
      for (const replica of shard.members.slice(1)) {
        await this.withClient(replica, (client) => client.call('CLUSTER', 'REPLICATE', nodeIds.get(shard.members[0])!));
      }
    }
    // Available once every node also knows every replica as one (gossip carries roles with a delay):
    // a client's CLUSTER SLOTS or CLUSTER NODES, whichever node it asks, then shows the whole topology.
    const replicaCount = group.members.filter((m) => m.role === 'replica').length;
    await Promise.all(group.members.map((member) => this.withClient(member, (client) =>
      this.wait(`cluster ${group.id} ok on ${member.id}`, group.members, async () => {
        const state = String(await client.call('CLUSTER', 'INFO'));
        const replication = member.role === 'replica' ? await client.info('replication') : 'master_link_status:up master_sync_in_progress:0';
        const replicasKnown = String(await client.call('CLUSTER', 'NODES')).trim().split('\n')
          .filter((line) => line.split(' ')[2]?.split(',').includes('slave')).length;
        return /cluster_state:ok/.test(state) && /master_link_status:up/.test(replication) && /master_sync_in_progress:0/.test(replication)
          && replicasKnown === replicaCount;
      }))));
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
    const primaryDir = this.nodeDir(primary.id);
    fs.rmSync(primaryDir, { recursive: true, force: true });
    fs.mkdirSync(primaryDir, { recursive: true });
    if (seedRdb) {
      linkOrCopy(seedRdb, path.join(primaryDir, 'dump.rdb'));
    }
    await this.startServer(primary, this.serverOptions(group, primary, primaryDir));
    await Promise.all(replicas.map(async (member) => {
      const dir = this.nodeDir(member.id);
      fs.rmSync(dir, { recursive: true, force: true });
      await this.startServer(member, this.serverOptions(group, member, dir));
      await this.follow(member, primary);
    }));
  }

  /**
   * Makes `replica` replicate `primary` and waits until its first sync is done; fails when either
   * node dies or the sync does not finish within the bound.
   */
  public async follow(replica: Member, primary: Member): Promise<void> {
    const server = primary.server!;
    await this.withClient(replica, async (client) => {
      await client.call('REPLICAOF', server.host, String(server.port));
      await this.wait(`${replica.id} syncing with ${primary.id}`, [replica, primary], async () => {
        const info = await client.info('replication');
        return /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
      }, 10);
    });
  }

  /**
   * Promotes `replica` of `shard` to primary; the other running members follow it. With the
   * primary dead, a Redis Cluster replica takes over without the primary's agreement (TAKEOVER).
   */
  public async failover(group: Group, shard: Shard, replica: Member): Promise<void> {
    if (group.clusterEnabled) {
      const primary = shard.members.find((m) => m.role === 'primary');
      const mode = primary?.server?.running ? [] : ['TAKEOVER'];
      await this.withClient(replica, (client) => client.call('CLUSTER', 'FAILOVER', ...mode));
      await this.withClient(replica, (client) =>
        this.wait(`${replica.id} taking over`, [replica], async () => /role:master/.test(await client.info('replication'))));
    } else {
      await this.withClient(replica, (client) => client.call('REPLICAOF', 'NO', 'ONE'));
      for (const other of shard.members.filter((m) => m !== replica && m.server?.running)) {
        await this.follow(other, replica);
      }
    }
  }

  /**
   * Launches a new node for `member`, whose node failed, in an empty folder: it replicates `source`
   * when given (and is made a primary again afterwards when `member` is the shard's primary),
   * otherwise it starts empty (a primary without a replica to sync from loses its data).
   */
  public async replace(group: Group, shard: Shard, member: Member, source?: Member): Promise<void> {
    const dead = member.server;
    const dir = this.nodeDir(member.id);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const server = await this.startServer(member, this.serverOptions(group, member, dir));
    try {
      if (group.clusterEnabled) {
        await this.rejoinCluster(group, shard, member, dead && `${dead.host}:${dead.port}@`, source);
      } else if (source) {
        if (member.role === 'primary') {
          // A replica whose primary is gone refuses to sync others ("NOMASTERLINK Can't SYNC while
          // not connected with my master"): it stops following the dead primary first.
          await this.detach(source);
        }
        await this.follow(member, source);
        if (member.role === 'primary') {
          await this.detach(member);
        }
      }
    } catch (e) {
      // A replacement that did not sync is not in service: stopped, so that it is tried again.
      await server.stop();
      throw e;
    }
  }

  /**
   * Brings a replacement node into its Redis Cluster: every running node forgets the failed node,
   * the new one meets them and either replicates its shard's primary (`source`) or, as a primary
   * with no replica left, claims its shard's slots empty.
   */
  private async rejoinCluster(group: Group, shard: Shard, member: Member, deadAddress: string | undefined, source?: Member): Promise<void> {
    const others = group.members.filter((m) => m !== member && m.server?.running);
    if (others.length === 0) {
      await this.withClient(member, (client) => this.assignSlots(client, shard));
      return;
    }
    const deadIds = new Set<string>();
    for (const other of others) {
      await this.withClient(other, async (client) => {
        for (const line of String(await client.call('CLUSTER', 'NODES')).trim().split('\n')) {
          const [id, address] = line.split(' ');
          if (deadAddress !== undefined && address?.startsWith(deadAddress)) deadIds.add(id);
        }
      });
    }
    for (const other of others) {
      await this.withClient(other, async (client) => {
        for (const id of deadIds) await client.call('CLUSTER', 'FORGET', id).catch(() => undefined);
      });
    }
    const first = others[0].server!;
    await this.withClient(member, async (client) => {
      if (!source) await this.assignSlots(client, shard);
      await client.call('CLUSTER', 'MEET', first.host, String(first.port));
    });
    const everyone = [member, ...others];
    await Promise.all(everyone.map((m) => this.withClient(m, (client) =>
      this.wait(`${member.id} joining cluster ${group.id}`, everyone, async () => {
        const known = String(await client.call('CLUSTER', 'NODES')).trim().split('\n')
          .filter((line) => !line.includes('handshake') && !line.includes('noaddr') && !line.includes('fail'));
        return known.length === everyone.length;
      }))));
    if (source) {
      const sourceId = await this.withClient(source, async (client) => String(await client.call('CLUSTER', 'MYID')));
      await this.withClient(member, (client) => client.call('CLUSTER', 'REPLICATE', sourceId));
    }
    await Promise.all(everyone.map((m) => this.withClient(m, (client) =>
      this.wait(`cluster ${group.id} ok on ${m.id}`, everyone, async () => {
        const state = String(await client.call('CLUSTER', 'INFO'));
        const replication = m === member && source ? await client.info('replication') : 'master_link_status:up master_sync_in_progress:0';
        return /cluster_state:ok/.test(state) && /master_link_status:up/.test(replication) && /master_sync_in_progress:0/.test(replication);
      }))));
  }

  /** Makes the group's AUTH tokens the ones every node of the group accepts. */
  public async setAuthTokens(group: Group): Promise<void> {
    await Promise.all(group.members.map((m) => m.server?.setAuthTokens(group.authTokens)));
  }

  /** Makes a member a primary of its own (a retained primary leaving its group). */
  public async detach(member: Member): Promise<void> {
    await this.withClient(member, (client) => client.call('REPLICAOF', 'NO', 'ONE'));
  }

  /** Stops members' servers and removes their files. */
  public async remove(members: Member[]): Promise<void> {
    await Promise.all(members.map((m) => m.server?.stop()));
    for (const m of members) {
      fs.rmSync(this.nodeDir(m.id), { recursive: true, force: true });
    }
  }

  /** Stops members' servers (their files stay). */
  public async stop(members: Member[]): Promise<void> {
    await Promise.all(members.map((m) => m.server?.stop()));
  }

  /**
   * A power loss (a regional outage): every server started here, running or starting, is killed
   * with SIGKILL, so none saves or cleans up, and starts under way fail, until `powerOn`. Resolves
   * once they have all exited (bounded: a SIGKILL cannot be refused).
   */
  public async powerOff(): Promise<void> {
    this.starts.abort();
    // A server still starting is in the set from its spawn; one spawned by a start that saw the
    // abort only after it is killed by startServer.
    for (let round = 0; round < 3 && this.servers.size > 0; round++) {
      await Promise.all([...this.servers].map((s) => s.killAndWait()));
    }
  }

  /** Lets servers start again after `powerOff` (not after `stopAll`). */
  public powerOn(): void {
    if (!this.aborter.signal.aborted && this.starts.signal.aborted) this.starts = new AbortController();
  }

  /** Ends every wait, refuses new starts and stops every server started here, running or starting. */
  public async stopAll(): Promise<void> {
    this.aborter.abort();
    this.starts.abort();
    // A server still starting is in the set from its spawn; one that finishes starting after this is stopped by startServer.
    for (let round = 0; round < 3 && this.servers.size > 0; round++) {
      await Promise.all([...this.servers].map((s) => s.stop()));
    }
  }
}
