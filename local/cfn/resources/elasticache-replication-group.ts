/**
 * AWS::ElastiCache::ReplicationGroup, through the ElastiCache API of the provider's engine.
 *
 * Update behaviours are those of the resource reference (CloudFormation User Guide,
 * AWS::ElastiCache::ReplicationGroup, "Update requires"): Replacement for AtRestEncryptionEnabled,
 * CacheSubnetGroupName, Engine, GlobalReplicationGroupId, KmsKeyId, Port, PreferredCacheClusterAZs,
 * ReplicasPerNodeGroup, ReplicationGroupId, SnapshotArns, SnapshotName, TransitEncryptionEnabled;
 * NumNodeGroups and NodeGroupConfiguration need replacement unless the UpdatePolicy
 * UseOnlineResharding is set (not emulated: always a replacement here). Read from the archived user
 * guide (awsdocs/aws-cloudformation-user-guide); later properties (DataTieringEnabled, ClusterMode,
 * an Engine change from redis to valkey, which newer documentation may allow in place) are
 * unverified. In place: SnapshotRetentionLimit, SnapshotWindow, SnapshottingClusterId,
 * PreferredMaintenanceWindow and Tags, with ModifyReplicationGroup / the tagging API; any other
 * in-place change fails the resource (the engine's ModifyReplicationGroup does not emulate it).
 */
import {
  AddTagsToResourceCommand, CreateReplicationGroupCommand, DeleteReplicationGroupCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand,
  ElastiCacheClient,
  ModifyReplicationGroupCommand, ReplicationGroup, RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-elasticache';
import { bool, int, reason, ResourceContext, ResourceFailure, ResourceHandler } from './types';
import { until } from '../../poll';
import { groupAvailable } from '../../waiters';
import { sameValue } from '../template';

/** Accepted without effect, and why (reported in the resource's event). */
const NO_EFFECT: Record<string, string> = {
  CacheSubnetGroupName: 'the local provider has no VPC; nodes listen on loopback addresses of their own',
  SecurityGroupIds: 'the local provider has no VPC; nodes listen on loopback addresses of their own',
};

const APPLIED = ['ReplicationGroupId', 'ReplicationGroupDescription', 'CacheNodeType', 'Engine', 'EngineVersion', 'NumCacheClusters',
  'NumNodeGroups', 'ReplicasPerNodeGroup', 'NodeGroupConfiguration', 'ClusterMode', 'AutomaticFailoverEnabled', 'MultiAZEnabled',
  'SnapshotRetentionLimit', 'SnapshotWindow', 'SnapshottingClusterId', 'PreferredMaintenanceWindow', 'SnapshotArns', 'SnapshotName',
  'TransitEncryptionEnabled', 'TransitEncryptionMode', 'AtRestEncryptionEnabled', 'AuthToken', 'CacheParameterGroupName', 'Tags', 'Port'];

const IN_PLACE = ['SnapshotRetentionLimit', 'SnapshotWindow', 'SnapshottingClusterId', 'PreferredMaintenanceWindow', 'Tags'];

export const elastiCacheReplicationGroup: ResourceHandler = {
  properties: [...APPLIED, ...Object.keys(NO_EFFECT)],
  replaceOn: ['AtRestEncryptionEnabled', 'CacheSubnetGroupName', 'Engine', 'GlobalReplicationGroupId', 'KmsKeyId', 'Port', 'PreferredCacheClusterAZs',
    'ReplicasPerNodeGroup', 'ReplicationGroupId', 'SnapshotArns', 'SnapshotName', 'TransitEncryptionEnabled', 'NumNodeGroups', 'NodeGroupConfiguration',
    'DataTieringEnabled'],
  nameProperty: 'ReplicationGroupId',
  snapshots: true,

  async create(ctx, props) {
    if (props.TransitEncryptionMode !== undefined && props.TransitEncryptionMode !== 'required') {
      throw new ResourceFailure(`The local provider's nodes with in-transit encryption speak TLS only (TransitEncryptionMode required), not ${props.TransitEncryptionMode}.`);
    }
    const groupId: string = props.ReplicationGroupId ?? ctx.generatedName(40, true);
    const authToken: string | undefined = props.AuthToken;
    const ec = ctx.clients.elasticache;
    await ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: groupId,
      ReplicationGroupDescription: props.ReplicationGroupDescription,
      CacheNodeType: props.CacheNodeType,
      Engine: props.Engine,
      EngineVersion: props.EngineVersion,
      NumCacheClusters: int(props.NumCacheClusters),
      NumNodeGroups: int(props.NumNodeGroups),
      ReplicasPerNodeGroup: int(props.ReplicasPerNodeGroup),
      NodeGroupConfiguration: props.NodeGroupConfiguration?.map((n: any) => ({
        NodeGroupId: n.NodeGroupId,
        Slots: n.Slots,
        ReplicaCount: int(n.ReplicaCount),
        PrimaryAvailabilityZone: n.PrimaryAvailabilityZone,
        ReplicaAvailabilityZones: n.ReplicaAvailabilityZones,
      })),
      ClusterMode: props.ClusterMode,
      AutomaticFailoverEnabled: bool(props.AutomaticFailoverEnabled),
      MultiAZEnabled: bool(props.MultiAZEnabled),
      SnapshotRetentionLimit: int(props.SnapshotRetentionLimit),
      SnapshotWindow: props.SnapshotWindow,
      PreferredMaintenanceWindow: props.PreferredMaintenanceWindow,
      SnapshotArns: props.SnapshotArns,
      SnapshotName: props.SnapshotName,
      TransitEncryptionEnabled: bool(props.TransitEncryptionEnabled),
      AtRestEncryptionEnabled: bool(props.AtRestEncryptionEnabled),
      AuthToken: authToken,
      CacheParameterGroupName: props.CacheParameterGroupName,
      Port: int(props.Port),
      Tags: props.Tags?.map((t: any) => ({ Key: t.Key, Value: t.Value })),
    }));
    try {
      let group = await groupAvailable(ec, groupId, 600_000);
      if (props.SnapshottingClusterId !== undefined) {
        // CreateReplicationGroup has no SnapshottingClusterId: CloudFormation sets it with a modify.
        await ec.send(new ModifyReplicationGroupCommand({
          ReplicationGroupId: groupId, SnapshottingClusterId: props.SnapshottingClusterId, ApplyImmediately: true,
        }));
        group = await groupAvailable(ec, groupId, 600_000);
      }
      return { physicalId: groupId, attributes: attributes(group), notes: notes(props) };
    } catch (e) {
      // The group exists: a rollback deletes it.
      throw new ResourceFailure(reason(e), groupId);
    }
  },

  async update(ctx, current, old, props) {
    const changed = Object.keys({ ...old, ...props }).filter((k) => !sameValue(old[k], props[k]) && !(k in NO_EFFECT));
    const unsupported = changed.filter((k) => !IN_PLACE.includes(k));
    if (unsupported.length > 0) {
      throw new ResourceFailure(`The local provider does not update ${unsupported.join(', ')} of AWS::ElastiCache::ReplicationGroup in place `
        + '(its ModifyReplicationGroup does not emulate these changes).');
    }
    const ec = ctx.clients.elasticache;
    const id = current.physicalId;
    const modify = changed.filter((k) => k !== 'Tags');
    if (modify.length > 0) {
      await ec.send(new ModifyReplicationGroupCommand({
        ReplicationGroupId: id,
        ApplyImmediately: true,
        // A property removed from the template goes back to ElastiCache's default (unverified for the windows, which keep their value).
        SnapshotRetentionLimit: changed.includes('SnapshotRetentionLimit') ? int(props.SnapshotRetentionLimit) ?? 0 : undefined,
        SnapshotWindow: changed.includes('SnapshotWindow') ? props.SnapshotWindow : undefined,
        SnapshottingClusterId: changed.includes('SnapshottingClusterId') ? props.SnapshottingClusterId : undefined,
        PreferredMaintenanceWindow: changed.includes('PreferredMaintenanceWindow') ? props.PreferredMaintenanceWindow : undefined,
      }));
    }
    if (changed.includes('Tags')) {
      const arn = `arn:aws:elasticache:${ctx.region}:${ctx.account}:replicationgroup:${id}`;
      const next = new Map<string, string>((props.Tags ?? []).map((t: any) => [t.Key, t.Value]));
      const gone = (old.Tags ?? []).map((t: any) => t.Key).filter((k: string) => !next.has(k));
      if (gone.length) await ec.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: gone }));
      if (next.size) await ec.send(new AddTagsToResourceCommand({ ResourceName: arn, Tags: [...next].map(([Key, Value]) => ({ Key, Value })) }));
    }
    const group = await groupAvailable(ec, id, 600_000);
    return { physicalId: id, attributes: attributes(group), notes: notes(props) };
  },

  async delete(ctx, current, _props, snapshot) {
    const ec = ctx.clients.elasticache;
    const id = current.physicalId;
    const group = await describe(ec, id);
    if (!group) return;
    // A final snapshot needs an available group; a group that failed to create has no data to keep.
    // The name CloudFormation gives the snapshot is not documented: this one is the group's id and the time.
    const finalSnapshot = snapshot && group.Status === 'available' ? `${id}-final-${stamp(ctx.provider.clock.now())}` : undefined;
    await until(`${id} deletable`, async () => {
      try {
        await ec.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: id, FinalSnapshotIdentifier: finalSnapshot }));
        return true;
      } catch (e: any) {
        // A group still modifying or snapshotting is waited for, as CloudFormation's handler retries.
        if (e.name === 'InvalidReplicationGroupStateFault' && !/deleting/.test(e.message)) return undefined;
        throw e;
      }
    }, 600_000, 50);
    await until(`${id} deleted`, async () => ((await describe(ec, id)) ? undefined : true), 600_000, 50);
    if (finalSnapshot && !(await snapshotExists(ctx, finalSnapshot))) {
      throw new ResourceFailure(`The final snapshot ${finalSnapshot} of ${id} was not created.`);
    }
  },
};

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined).map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`);
  return given.length === 0 ? undefined : given.join('; ');
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

async function describe(ec: ElastiCacheClient, id: string): Promise<ReplicationGroup | undefined> {
  try {
    return (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups?.[0];
  } catch (e: any) {
    if (e.name === 'ReplicationGroupNotFoundFault') return undefined;
    throw e;
  }
}

async function snapshotExists(ctx: ResourceContext, name: string): Promise<boolean> {
  try {
    const s = (await ctx.clients.elasticache.send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots?.[0];
    return s?.SnapshotStatus === 'available';
  } catch (e: any) {
    if (e.name === 'SnapshotNotFoundFault') return false;
    throw e;
  }
}

/** The Fn::GetAtt attributes (resource reference, "Return values"); ConfigurationEndPoint only for cluster mode enabled groups. */
function attributes(group: ReplicationGroup): Record<string, unknown> {
  const a: Record<string, unknown> = {};
  const primary = group.NodeGroups?.[0]?.PrimaryEndpoint;
  if (primary) {
    a['PrimaryEndPoint.Address'] = primary.Address;
    a['PrimaryEndPoint.Port'] = String(primary.Port);
  }
  const reader = group.NodeGroups?.[0]?.ReaderEndpoint;
  if (reader) {
    a['ReaderEndPoint.Address'] = reader.Address;
    a['ReaderEndPoint.Port'] = String(reader.Port);
  }
  if (group.ConfigurationEndpoint) {
    a['ConfigurationEndPoint.Address'] = group.ConfigurationEndpoint.Address;
    a['ConfigurationEndPoint.Port'] = String(group.ConfigurationEndpoint.Port);
  }
  const members = (group.NodeGroups ?? []).flatMap((n) => n.NodeGroupMembers ?? []).filter((m) => m.ReadEndpoint);
  if (members.length > 0) {
    a['ReadEndPoint.Addresses'] = members.map((m) => m.ReadEndpoint!.Address).join(',');
    a['ReadEndPoint.Ports'] = members.map((m) => String(m.ReadEndpoint!.Port)).join(',');
    a['ReadEndPoint.Addresses.List'] = members.map((m) => m.ReadEndpoint!.Address);
    a['ReadEndPoint.Ports.List'] = members.map((m) => String(m.ReadEndpoint!.Port));
  }
  return a;
}
