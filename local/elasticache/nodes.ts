/**
 * The redis-server processes behind the emulated nodes: starting a group's nodes (replicas
 * following their primary, or a Redis Cluster with its slots), failing over, stopping.
 */
import * as fs from 'fs';
import * as path from 'path';
import type Redis from 'ioredis';
import { linkOrCopy } from '../files';
import { Group, Member, parseSlots, Shard } from './model';
import { RedisServer } from '../redis/server';

export class Nodes {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
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
    return group.clusterEnabled ? this.startCluster(group, seedRdbs) : this.startNodes(group, seedRdbs?.[0]);
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
    const primaryDir = this.nodeDir(primary.id);
    fs.rmSync(primaryDir, { recursive: true, force: true });
    fs.mkdirSync(primaryDir, { recursive: true });
    if (seedRdb) {
      linkOrCopy(seedRdb, path.join(primaryDir, 'dump.rdb'));
    }
    primary.server = await RedisServer.start({ dir: primaryDir });
    await Promise.all(replicas.map(async (member) => {
      const dir = this.nodeDir(member.id);
      fs.rmSync(dir, { recursive: true, force: true });
      member.server = await RedisServer.start({ dir });
      await this.follow(member, primary.server!);
    }));
  }

  /** Makes `replica` replicate `primary` and waits until its first sync is done. */
  public async follow(replica: Member, primary: RedisServer): Promise<void> {
    await this.withClient(replica, async (client) => {
      await client.call('REPLICAOF', primary.host, String(primary.port));
      for (;;) {
        const info = await client.info('replication');
        if (/master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    });
  }

  /** Promotes `replica` of `shard` to primary; the other members follow it. */
  public async failover(group: Group, shard: Shard, replica: Member): Promise<void> {
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
}
