/**
 * The API layer: maps ElastiCache Query actions to the engine, and its answers to response shapes (shapes.ts).
 */
import { ElastiCacheEngine } from './engine';
import { QueryParams, resultXml, ServiceError } from './query';
import { groupShape, memberShape, snapshotShape } from './shapes';

type Handler = (engine: ElastiCacheEngine, p: QueryParams) => Promise<Record<string, unknown> | undefined>;

function tags(p: QueryParams): Array<[string, string]> {
  return p.structs('Tags', 'Tag').map((t) => [t.Key, t.Value ?? '']);
}

function tagList(map: Map<string, string>): Record<string, unknown> {
  return { TagList: [...map].map(([Key, Value]) => ({ Key, Value })) };
}

/** Pages a list as ElastiCache does: `MaxRecords` (20 to 100, default 100) and an opaque `Marker`. */
function page<T>(items: T[], p: QueryParams, defaultMax = 100): { items: T[]; marker?: string } {
  const max = p.int('MaxRecords') ?? defaultMax;
  if (max < 20 || max > 100) {
    throw new ServiceError('InvalidParameterValue', `MaxRecords must be between 20 and 100, got ${max}.`);
  }
  const start = p.str('Marker') ? Number(Buffer.from(p.str('Marker')!, 'base64').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) {
    throw new ServiceError('InvalidParameterValue', 'Invalid Marker.');
  }
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
  return { items: slice, marker: next };
}

const handlers: Record<string, Handler> = {
  async CreateReplicationGroup(engine, p) {
    const group = await engine.createReplicationGroup({
      id: p.required('ReplicationGroupId'),
      description: p.required('ReplicationGroupDescription'),
      nodeType: p.str('CacheNodeType'),
      engine: p.str('Engine'),
      engineVersion: p.str('EngineVersion'),
      numCacheClusters: p.int('NumCacheClusters'),
      replicasPerNodeGroup: p.int('ReplicasPerNodeGroup'),
      numNodeGroups: p.int('NumNodeGroups'),
      clusterMode: p.str('ClusterMode'),
      nodeGroupConfiguration: p.structs('NodeGroupConfiguration', 'NodeGroupConfiguration'),
      cacheParameterGroupName: p.str('CacheParameterGroupName'),
      automaticFailover: p.bool('AutomaticFailoverEnabled'),
      multiAz: p.bool('MultiAZEnabled'),
      snapshotName: p.str('SnapshotName'),
      snapshotArns: p.list('SnapshotArns', 'SnapshotArn'),
      retentionDays: p.int('SnapshotRetentionLimit'),
      snapshotWindow: p.str('SnapshotWindow'),
      maintenanceWindow: p.str('PreferredMaintenanceWindow'),
      transitEncryption: p.bool('TransitEncryptionEnabled'),
      atRestEncryption: p.bool('AtRestEncryptionEnabled'),
      authToken: p.str('AuthToken'),
      port: p.int('Port'),
      tags: tags(p),
    });
    return { ReplicationGroup: groupShape(engine, group) };
  },

  async DescribeReplicationGroups(engine, p) {
    const groups = await engine.describeReplicationGroups(p.str('ReplicationGroupId'));
    const { items, marker } = page(groups, p);
    return { Marker: marker, ReplicationGroups: items.map((g) => groupShape(engine, g)) };
  },

  async ModifyReplicationGroup(engine, p) {
    const group = await engine.modifyReplicationGroup({
      id: p.required('ReplicationGroupId'),
      retentionDays: p.int('SnapshotRetentionLimit'),
      snapshotWindow: p.str('SnapshotWindow'),
      snapshottingClusterId: p.str('SnapshottingClusterId'),
      maintenanceWindow: p.str('PreferredMaintenanceWindow'),
      authToken: p.str('AuthToken'),
      authTokenUpdateStrategy: p.str('AuthTokenUpdateStrategy'),
      applyImmediately: p.bool('ApplyImmediately'),
    });
    return { ReplicationGroup: groupShape(engine, group) };
  },

  async DeleteReplicationGroup(engine, p) {
    const group = await engine.deleteReplicationGroup({
      id: p.required('ReplicationGroupId'),
      finalSnapshotName: p.str('FinalSnapshotIdentifier'),
      retainPrimaryCluster: p.bool('RetainPrimaryCluster'),
    });
    return { ReplicationGroup: groupShape(engine, group) };
  },

  async TestFailover(engine, p) {
    const group = await engine.testFailover(p.required('ReplicationGroupId'), p.required('NodeGroupId'));
    return { ReplicationGroup: groupShape(engine, group) };
  },

  async DescribeCacheClusters(engine, p) {
    const found = await engine.describeCacheClusters(p.str('CacheClusterId'));
    const { items, marker } = page(found, p);
    const show = p.bool('ShowCacheNodeInfo') ?? false;
    return { Marker: marker, CacheClusters: items.map(({ group, member }) => memberShape(engine, group, member, show)) };
  },

  async DeleteCacheCluster(engine, p) {
    const { group, member } = await engine.deleteCacheCluster(p.required('CacheClusterId'));
    return { CacheCluster: { ...memberShape(engine, group, member, false), CacheClusterStatus: 'deleting' } };
  },

  async CreateSnapshot(engine, p) {
    const snapshot = await engine.createSnapshot({
      name: p.required('SnapshotName'),
      groupId: p.str('ReplicationGroupId'),
      clusterId: p.str('CacheClusterId'),
      tags: tags(p),
    });
    return { Snapshot: snapshotShape(engine, snapshot, false) };
  },

  async DescribeSnapshots(engine, p) {
    const snapshots = await engine.describeSnapshots({
      groupId: p.str('ReplicationGroupId'),
      clusterId: p.str('CacheClusterId'),
      name: p.str('SnapshotName'),
      source: p.str('SnapshotSource'),
    });
    // DescribeSnapshots pages by 50 unless told otherwise.
    const { items, marker } = page(snapshots, p, 50);
    const show = p.bool('ShowNodeGroupConfig') ?? false;
    return { Marker: marker, Snapshots: items.map((s) => snapshotShape(engine, s, show)) };
  },

  async DeleteSnapshot(engine, p) {
    const snapshot = await engine.deleteSnapshot(p.required('SnapshotName'));
    return { Snapshot: snapshotShape(engine, snapshot, false) };
  },

  async CopySnapshot(engine, p) {
    const snapshot = await engine.copySnapshot({
      source: p.required('SourceSnapshotName'),
      target: p.required('TargetSnapshotName'),
      targetBucket: p.str('TargetBucket'),
      tags: tags(p),
    });
    return { Snapshot: snapshotShape(engine, snapshot, false) };
  },

  async AddTagsToResource(engine, p) {
    return tagList(await engine.addTags(p.required('ResourceName'), tags(p)));
  },

  async RemoveTagsFromResource(engine, p) {
    return tagList(await engine.removeTags(p.required('ResourceName'), p.list('TagKeys', 'member')));
  },

  async ListTagsForResource(engine, p) {
    return tagList(await engine.listTags(p.required('ResourceName')));
  },
};

/** Runs one ElastiCache request and returns its XML answer; throws `ServiceError`s. */
export async function handleElastiCache(engine: ElastiCacheEngine, body: string): Promise<string> {
  const params = new QueryParams(new URLSearchParams(body));
  const handler = handlers[params.action];
  if (!handler) {
    throw new ServiceError('InvalidAction', `The action ${params.action || '(none)'} is not valid for this web service (or not emulated by the local provider).`);
  }
  engine.checkInjected(params.action);
  return resultXml(params.action, await handler(engine, params));
}
