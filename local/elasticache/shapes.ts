/**
 * The wire shapes of ElastiCache's answers (ReplicationGroup, CacheCluster, Snapshot), made from
 * the model. Field names are the service model's; `toXml` in query.ts writes them.
 */
import { EndpointNames } from './endpoints';
import { DATA_TIERING } from './facts';
import { Group, Member, Snapshot } from './model';

/** Where the resources live, for their ARNs and availability zones. */
export interface Place {
  readonly region: string;
  readonly account: string;
}

function arn(place: Place, kind: string, name: string): string {
  return `arn:aws:elasticache:${place.region}:${place.account}:${kind}:${name}`;
}

/**
 * A node's endpoint, shown only while its server runs and is in service (a dead node, or its
 * replacement still being launched and synced, has no endpoint to give).
 */
function endpoint(m: Member | undefined, name: string): Record<string, unknown> | undefined {
  return m?.server?.running && !m.replacing ? { Address: name, Port: m.server.port } : undefined;
}

/** A node's status (CacheNodeStatus): `creating` while a failed node is replaced, `restore-failed` when it could not be. */
function nodeStatus(group: Group, m: Member): string {
  if (m.unrecoverable) return 'restore-failed';
  return group.status === 'creating' || m.replacing ? 'creating' : 'available';
}

export function groupShape(place: Place, group: Group): Record<string, unknown> {
  const names = new EndpointNames(place.account, place.region, group);
  const status = group.status === 'available' || group.status === 'snapshotting' ? 'available' : group.status;
  // With cluster mode enabled, clients use the configuration endpoint; node groups carry their
  // slots, and members have no per-node read endpoint or role in this answer.
  const nodeGroups = group.shards.map((shard) => {
    const primary = shard.members.find((m) => m.role === 'primary');
    // The reader endpoint leads to a replica in service, or to the primary when there is none.
    const reader = shard.members.find((m) => m.role === 'replica' && endpoint(m, '')) ?? primary;
    return {
      NodeGroupId: shard.id,
      Status: status,
      PrimaryEndpoint: group.clusterEnabled ? undefined : endpoint(primary, names.primary),
      ReaderEndpoint: group.clusterEnabled ? undefined : endpoint(reader, names.reader),
      Slots: group.clusterEnabled ? shard.slots : undefined,
      NodeGroupMembers: shard.members.map((m) => ({
        CacheClusterId: m.id,
        CacheNodeId: '0001',
        ReadEndpoint: group.clusterEnabled ? undefined : endpoint(m, names.node(m.id)),
        PreferredAvailabilityZone: `${place.region}a`,
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
    // The configuration endpoint's name answers every node in service (see endpoints.ts).
    ConfigurationEndpoint: group.clusterEnabled ? endpoint(group.members.find((m) => endpoint(m, '')), names.configuration) : undefined,
    SnapshottingClusterId: group.snapshottingClusterId,
    AutomaticFailover: group.automaticFailover ? 'enabled' : 'disabled',
    MultiAZ: group.multiAz ? 'enabled' : 'disabled',
    SnapshotRetentionLimit: group.retentionDays,
    SnapshotWindow: group.snapshotWindow,
    ClusterEnabled: group.clusterEnabled,
    CacheNodeType: group.nodeType,
    AuthTokenEnabled: group.authTokenEnabled,
    AuthTokenLastModifiedDate: group.authTokenModifiedAt !== undefined ? new Date(group.authTokenModifiedAt) : undefined,
    PendingModifiedValues: group.authTokenStatus ? { AuthTokenStatus: group.authTokenStatus } : undefined,
    TransitEncryptionEnabled: group.transitEncryption,
    AtRestEncryptionEnabled: group.atRestEncryption,
    ARN: arn(place, 'replicationgroup', group.id),
    ReplicationGroupCreateTime: new Date(group.createdAt),
    DataTiering: DATA_TIERING.test(group.nodeType) ? 'enabled' : 'disabled',
    Engine: group.engine,
    ClusterMode: group.clusterEnabled ? 'enabled' : 'disabled',
  };
}

export function memberShape(place: Place, group: Group, member: Member, showNodes: boolean): Record<string, unknown> {
  return {
    CacheClusterId: member.id,
    CacheNodeType: group.nodeType,
    Engine: group.engine,
    EngineVersion: group.engineVersion,
    CacheClusterStatus: group.status === 'snapshotting' ? 'snapshotting' : group.status,
    NumCacheNodes: 1,
    PreferredAvailabilityZone: `${place.region}a`,
    CacheClusterCreateTime: new Date(member.createdAt),
    PreferredMaintenanceWindow: group.maintenanceWindow,
    CacheNodes: showNodes ? [{
      CacheNodeId: '0001',
      CacheNodeStatus: nodeStatus(group, member),
      CacheNodeCreateTime: new Date(member.createdAt),
      Endpoint: endpoint(member, new EndpointNames(place.account, place.region, group).node(member.id)),
    }] : undefined,
    ReplicationGroupId: group.standalone ? undefined : group.id,
    SnapshotRetentionLimit: group.snapshottingClusterId === member.id ? group.retentionDays : 0,
    SnapshotWindow: group.snapshotWindow,
    TransitEncryptionEnabled: group.transitEncryption,
    AtRestEncryptionEnabled: group.atRestEncryption,
    ARN: arn(place, 'cluster', member.id),
  };
}

export function snapshotShape(place: Place, s: Snapshot, showNodeGroupConfig: boolean): Record<string, unknown> {
  return {
    SnapshotName: s.name,
    // A snapshot taken of a member (CreateSnapshot with CacheClusterId) names it at the top level,
    // as the user guide's example output shows ("Making manual backups", AWS CLI example 1).
    CacheClusterId: s.cacheClusterId,
    ReplicationGroupId: s.groupId,
    ReplicationGroupDescription: s.groupDescription,
    SnapshotStatus: s.status,
    // `automated` or `manual` (API reference, Snapshot: "whether the snapshot is from an automatic
    // backup (automated) or was created manually (manual)").
    SnapshotSource: s.source === 'automatic' ? 'automated' : 'manual',
    CacheNodeType: s.nodeType,
    Engine: s.engine,
    EngineVersion: s.engineVersion,
    NumCacheNodes: s.cacheClusterId ? 1 : undefined,
    PreferredAvailabilityZone: s.cacheClusterId ? `${place.region}a` : undefined,
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
    ARN: arn(place, 'snapshot', s.name),
    DataTiering: DATA_TIERING.test(s.nodeType) ? 'enabled' : 'disabled',
  };
}
