/**
 * The pre-update snapshot handler (backup.snapshotBeforeUpdate) against the local provider, with
 * CloudFormation's part played as it plays it: the resource's properties are the ones the construct
 * synthesizes, and the stack's status is the one CloudFormation gives it while it updates the
 * resource (before the group, which depends on it).
 */
import {
  CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeSnapshotsCommand, ElastiCacheClient, ListTagsForResourceCommand,
  ReplicationGroup, Snapshot,
} from '@aws-sdk/client-elasticache';
import { Duration } from 'aws-cdk-lib';
import Redis from 'ioredis';
import { handlerEnvironment } from './handler-env';
import { isComplete, onEvent, PreUpdateSnapshotEvent } from '../../lambda/handlers/pre-update-snapshot';
import { LocalStack } from '../../local/cloudformation';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { groupAvailable, snapshotAvailable } from '../../local/waiters';
import { PreUpdateSnapshotResourceProperties } from '../../src/private/pre-update-snapshot-contract';
import { groupStack } from '../util';
import { createGroup } from './groups';

jest.setTimeout(180_000);

const REGION = 'eu-north-1';
let provider: LocalProvider;
let ec: ElastiCacheClient;
let stack: LocalStack;

const local = handlerEnvironment(REGION);

beforeAll(async () => {
  ({ provider, ec } = local);
  stack = provider.cloudformation(REGION).createStack('Orders', { Resources: {} }).setStatus('UPDATE_IN_PROGRESS');
});

/** The resource's properties as the construct synthesizes them for a group of this node type. */
function properties(groupId: string, nodeType: string, options: { prefix?: string; keep?: number } = {}): PreUpdateSnapshotResourceProperties {
  const { template } = groupStack({ replicationGroupId: groupId, nodeType, backup: { retention: Duration.days(1), snapshotBeforeUpdate: options } });
  const [resource] = Object.values(template().findResources('Custom::RedisPreUpdateSnapshot'));
  const { ServiceToken: _, ...props } = resource.Properties;
  return props;
}

/** A group with `keys` keys in it. */
async function createGroupWithKeys(id: string, keys: number): Promise<ReplicationGroup> {
  const group = await createGroup(ec, id);
  const endpoint = group.NodeGroups![0].PrimaryEndpoint!;
  const r = new Redis({ host: endpoint.Address, port: endpoint.Port });
  try {
    for (let i = 0; i < keys; i += 500) {
      await r.mset(...Array.from({ length: Math.min(500, keys - i) }, (_, j) => [`k${i + j}`, `v${i + j}`]).flat());
    }
  } finally {
    r.disconnect();
  }
  return group;
}

function update(props: PreUpdateSnapshotResourceProperties, old: PreUpdateSnapshotResourceProperties): PreUpdateSnapshotEvent {
  return {
    RequestType: 'Update',
    StackId: stack.id,
    LogicalResourceId: 'CachePreUpdateSnapshot',
    PhysicalResourceId: old.ReplicationGroupId,
    ResourceProperties: props,
    OldResourceProperties: old,
  };
}

/** onEvent, then isComplete until done, as the Provider framework calls them; the snapshot's name. */
async function run(e: PreUpdateSnapshotEvent): Promise<string | undefined> {
  const answer = await onEvent(e);
  const next = { ...e, ...answer };
  await until('isComplete', async () => ((await isComplete(next)).IsComplete ? true : undefined));
  return answer.SnapshotName;
}

async function ownSnapshots(prefix: string): Promise<Snapshot[]> {
  const all = (await ec.send(new DescribeSnapshotsCommand({ SnapshotSource: 'user' }))).Snapshots ?? [];
  return all.filter((s) => s.SnapshotName!.startsWith(`${prefix}-`)).sort((a, b) => a.SnapshotName!.localeCompare(b.SnapshotName!));
}

const second = () => new Promise((r) => setTimeout(r, 1100));

test('the construct\'s properties reach the handler as synthesized', () => {
  const p = properties('shop', 'cache.r7g.large');
  expect(p).toMatchObject({ ReplicationGroupId: 'shop', CacheClusterId: 'shop-002', SnapshotPrefix: 'pre-shop', Keep: 5 });
  expect(p.GroupProperties).toMatchObject({ CacheNodeType: 'cache.r7g.large', ReplicationGroupId: 'shop' });
});

test('create takes nothing: the group does not exist yet', async () => {
  const p = properties('first', 'cache.r7g.large');
  const e: PreUpdateSnapshotEvent = { RequestType: 'Create', StackId: stack.id, LogicalResourceId: 'X', ResourceProperties: p };
  expect(await run(e)).toBeUndefined();
  expect(await ownSnapshots('pre-first')).toEqual([]);
});

test('an update of the group: a snapshot of the group as it is, from its backup source, available and tagged, before the change', async () => {
  await createGroupWithKeys('shop', 2_000);
  const before = properties('shop', 'cache.r7g.large');
  const after = properties('shop', 'cache.r7g.xlarge');
  const name = await run(update(after, before));
  expect(name).toMatch(/^pre-shop-\d{8}-\d{6}$/);
  const snapshot = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots![0];
  expect(snapshot).toMatchObject({ SnapshotStatus: 'available', ReplicationGroupId: 'shop', SnapshotSource: 'manual' });
  expect(snapshot.NodeSnapshots![0].CacheClusterId).toBe('shop-002');
  const tags = (await ec.send(new ListTagsForResourceCommand({ ResourceName: snapshot.ARN }))).TagList;
  expect(tags).toEqual([{ Key: 'cdk-elasticache-backup:resource', Value: `${stack.id}/CachePreUpdateSnapshot` }]);

  // It holds the data: a group restored from it has every key.
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'shop-restored', ReplicationGroupDescription: 'r', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1, SnapshotName: name,
  }));
  const restored = await groupAvailable(ec, 'shop-restored');
  const endpoint = restored.NodeGroups![0].PrimaryEndpoint!;
  const r = new Redis({ host: endpoint.Address, port: endpoint.Port });
  try {
    expect(await r.dbsize()).toBe(2_000);
  } finally {
    r.disconnect();
  }
});

test.each<[string, () => Promise<PreUpdateSnapshotEvent>]>([
  ['only the resource\'s own settings changed (prefix, keep)', async () =>
    update(properties('shop', 'cache.r7g.large', { keep: 2 }), properties('shop', 'cache.r7g.large'))],
  ['the stack is rolling back a failed update', async () => {
    const rolling = provider.cloudformation(REGION).createStack('Rolling', { Resources: {} }).setStatus('UPDATE_ROLLBACK_IN_PROGRESS');
    return { ...update(properties('shop', 'cache.r7g.large'), properties('shop', 'cache.r7g.xlarge')), StackId: rolling.id };
  }],
  ['the group does not exist (any more)', async () => update(properties('nothere', 'cache.r7g.xlarge'), properties('nothere', 'cache.r7g.large'))],
])('no snapshot when %s', async (_name, make) => {
  const count = (await ec.send(new DescribeSnapshotsCommand({ SnapshotSource: 'user' }))).Snapshots!.length;
  expect(await run(await make())).toBeUndefined();
  expect((await ec.send(new DescribeSnapshotsCommand({ SnapshotSource: 'user' }))).Snapshots!.length).toBe(count);
});

test('a replacement (a new id) snapshots the group that is there now, the old one', async () => {
  await createGroupWithKeys('cart-a', 100);
  const name = await run(update(properties('cart-b', 'cache.r7g.large'), properties('cart-a', 'cache.r7g.large')));
  const snapshot = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots![0];
  expect(snapshot).toMatchObject({ SnapshotStatus: 'available', ReplicationGroupId: 'cart-a' });
  expect(name).toMatch(/^pre-cart-b-/);
});

test('a busy group is snapshotted once it is available again', async () => {
  // Someone else's snapshot keeps the group busy for an hour of simulated time (six real seconds),
  // long enough to be caught creating however loaded the machine is.
  provider.elasticache(REGION).faults.snapshotDelays.push(50 * 60_000);
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'cart-a', SnapshotName: 'cart-busy' }));
  const e = update(properties('cart-a', 'cache.r7g.xlarge'), properties('cart-a', 'cache.r7g.large'));
  const answer = await onEvent(e);
  expect((await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'cart-busy' }))).Snapshots![0].SnapshotStatus).toBe('creating');
  await until('isComplete', async () => ((await isComplete({ ...e, ...answer })).IsComplete ? true : undefined));
  await snapshotAvailable(ec, answer.SnapshotName!);
});

test('a failed snapshot fails the update before the group changes', async () => {
  await createGroupWithKeys('fail-a', 10);
  provider.elasticache(REGION).faults.failSnapshots = 1;
  await expect(run(update(properties('fail-a', 'cache.r7g.xlarge'), properties('fail-a', 'cache.r7g.large')))).rejects.toThrow(
    /^Snapshot 'pre-fail-a-\d{8}-\d{6}' of replication group 'fail-a', taken before its update, failed; the group was not changed \(CloudFormation rolls the update back\)$/);
});

test('only `keep` of its own snapshots are kept, oldest deleted first; other snapshots of the same name shape are left alone', async () => {
  await createGroupWithKeys('keep-a', 10);
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'keep-a', SnapshotName: 'pre-keep-a-20200101-000000' }));
  await snapshotAvailable(ec, 'pre-keep-a-20200101-000000');
  const names: string[] = [];
  const types = ['cache.r7g.large', 'cache.r7g.xlarge', 'cache.r7g.2xlarge', 'cache.r7g.4xlarge'];
  for (let i = 1; i < types.length; i++) {
    await second();
    names.push((await run(update(properties('keep-a', types[i], { keep: 2 }), properties('keep-a', types[i - 1], { keep: 2 }))))!);
  }
  expect((await ownSnapshots('pre-keep-a')).map((s) => s.SnapshotName)).toEqual(['pre-keep-a-20200101-000000', names[1], names[2]]);
});

test('removing snapshotBeforeUpdate (or replacing its resource) deletes none of the snapshots it took, and takes none', async () => {
  const before = (await ownSnapshots('pre-keep-a')).map((s) => s.SnapshotName);
  expect(before.length).toBeGreaterThan(0);
  const props = properties('keep-a', 'cache.r7g.4xlarge', { keep: 2 });
  const e: PreUpdateSnapshotEvent = {
    RequestType: 'Delete', StackId: stack.id, LogicalResourceId: 'CachePreUpdateSnapshot', PhysicalResourceId: 'keep-a', ResourceProperties: props,
  };
  expect(await run(e)).toBeUndefined();
  expect((await ownSnapshots('pre-keep-a')).map((s) => s.SnapshotName)).toEqual(before);
});
