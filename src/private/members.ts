/**
 * The names ElastiCache gives the members (cache clusters, one node each) of a replication group it
 * creates, written once for the library (local/ keeps its own copy, as the emulator must).
 *
 * - Node groups (shards) are numbered `0001`, `0002`, ...: "A Valkey or Redis OSS (cluster mode
 *   disabled) replication group contains only 1 node group; therefore, the node group ID is 0001"
 *   (ElastiCache API Reference, NodeGroup, NodeGroupId).
 * - Members are `<group id>-001`, `-002`, ... with cluster mode disabled (`-001` is the node created
 *   as the primary, the others its replicas in order), and `<group id>-<node group>-001`, ... with
 *   cluster mode enabled (`<id>-0001-001` the first shard's primary). The pattern is what
 *   DescribeReplicationGroups returns as MemberClusters; the API reference does not spell it out
 *   (not confirmed in the documentation stored here).
 */

/** The id ElastiCache gives node group (shard) `shard`, counting from 1: `0001`. */
export function nodeGroupId(shard: number): string {
  return String(shard).padStart(4, '0');
}

/**
 * The cache cluster id of node `node` (counting from 1; node 1 is created as the primary) of shard
 * `shard` (counting from 1; `undefined` with cluster mode disabled) of group `groupId`, which may be
 * a token or a pattern such as `*`.
 */
export function memberId(groupId: string, shard: number | undefined, node: number): string {
  const nodePart = String(node).padStart(3, '0');
  return shard === undefined ? `${groupId}-${nodePart}` : `${groupId}-${nodeGroupId(shard)}-${nodePart}`;
}

/**
 * Every member of a group as ElastiCache creates it: shard by shard, each shard's primary first,
 * then its replicas. With cluster mode disabled there is one shard and `shards` is not used.
 */
export function memberIds(groupId: string, clustered: boolean, shards: number, replicasPerShard: number): string[] {
  const nodes = Array.from({ length: 1 + replicasPerShard }, (_, n) => n + 1);
  if (!clustered) {
    return nodes.map((node) => memberId(groupId, undefined, node));
  }
  return Array.from({ length: shards }, (_, s) => nodes.map((node) => memberId(groupId, s + 1, node))).flat();
}

/** The node created as the primary: `<id>-001`, or `<id>-0001-001` with cluster mode enabled. */
export function primaryMemberId(groupId: string, clustered: boolean): string {
  return memberId(groupId, clustered ? 1 : undefined, 1);
}

/** The first replica: `<id>-002`, or `<id>-0001-002` with cluster mode enabled. */
export function firstReplicaMemberId(groupId: string, clustered: boolean): string {
  return memberId(groupId, clustered ? 1 : undefined, 2);
}
