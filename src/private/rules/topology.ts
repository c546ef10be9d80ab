import { Token } from 'aws-cdk-lib';
import { ClusterMode } from '../../replication-group-base';

/**
 * A shard is one to six nodes (a primary and 0 to 5 replicas); cluster mode disabled means exactly
 * one shard; a group has at most 500 shards and 500 nodes (ElastiCache user guide, "Working with
 * shards in ElastiCache"). That page gives 90 nodes as the default limit, raised to 500 on request
 * for Redis OSS 5.0.6 and later: the quota is the account's, so it is not checked here.
 */
export function checkTopology(clusterMode: ClusterMode, shards: number, replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) {
    throw new Error(`replicasPerShard is ${replicas}; ElastiCache allows 0 to 5 replicas per shard`);
  }
  if (clusterMode === ClusterMode.DISABLED && shards !== 1) {
    throw new Error(`shards is ${shards} but clusterMode is ClusterMode.DISABLED; a group with cluster mode disabled has exactly 1 shard (use ClusterMode.ENABLED to shard)`);
  }
  if (!Number.isInteger(shards) || shards < 1 || shards > 500) {
    throw new Error(`shards is ${shards}; ElastiCache allows 1 to 500 shards`);
  }
  if (shards * (1 + replicas) > 500) {
    throw new Error(`shards ${shards} with ${replicas} replicas each is ${shards * (1 + replicas)} nodes; ElastiCache allows at most 500 nodes in a group`);
  }
}

/** Multi-AZ fails over to a replica, so it needs at least one. */
export function checkMultiAz(multiAz: boolean, replicas: number): void {
  if (multiAz && replicas === 0) {
    throw new Error('multiAz is true but replicasPerShard is 0; Multi-AZ needs at least one replica to fail over to');
  }
}

/**
 * Multi-AZ places replicas in other Availability Zones than their primary, so the subnet group
 * needs subnets in at least two. Zones that are tokens (or none known) are not checked.
 */
export function checkMultiAzSubnets(multiAz: boolean, zones: string[]): void {
  if (multiAz && zones.length > 0 && zones.every((az) => !Token.isUnresolved(az)) && new Set(zones).size < 2) {
    throw new Error(`multiAz is true but vpcSubnets selects subnets in one Availability Zone (${zones[0]}); Multi-AZ needs subnets in at least two`);
  }
}

/**
 * Automatic failover: on whenever there are replicas to fail over to, and always with cluster mode
 * enabled, which ElastiCache requires it for (not confirmed in the documentation stored here).
 */
export function automaticFailover(clusterMode: ClusterMode, replicas: number): boolean {
  return clusterMode === ClusterMode.ENABLED || replicas > 0;
}
