/**
 * The final snapshot handler (backup.finalSnapshotName) against the local provider: deleting a
 * group with a named final snapshot taken from the primary and verified available; refusing, and
 * deleting nothing, when the name is taken; following a replaced group.
 */
import {
  CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient,
  ReplicationGroupNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { FinalSnapshotEvent, isComplete, onEvent } from '../../lambda/handlers/final-snapshot';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(120_000);

const REGION = 'eu-west-3';
let provider: LocalProvider;
let ec: ElastiCacheClient;
const saved = { ...process.env };

async function createGroup(id: string): Promise<void> {
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.r7g.large', NumCacheClusters: 2, AutomaticFailoverEnabled: true,
  }));
  for (;;) {
    const g = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
    if (g.Status === 'available') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exists(id: string): Promise<boolean> {
  return ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })).then(() => true, (e) => {
    if (e instanceof ReplicationGroupNotFoundFault) return false;
    throw e;
  });
}

async function complete(e: FinalSnapshotEvent): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if ((await isComplete(e)).IsComplete) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('isComplete never said done');
}

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  Object.assign(process.env, provider.env(), { AWS_REGION: REGION });
  ec = new ElastiCacheClient({});
});

afterAll(async () => {
  ec?.destroy();
  await provider?.stop();
  process.env = saved;
});

test('create and update follow the group; delete takes the named final snapshot from the primary, then the group is gone', async () => {
  await createGroup('orders-a');
  const props = { ReplicationGroupId: 'orders-a', FinalSnapshotName: 'orders-final' };
  expect(await onEvent({ RequestType: 'Create', ResourceProperties: props })).toEqual({ PhysicalResourceId: 'orders-a' });
  expect(await isComplete({ RequestType: 'Create', ResourceProperties: props, PhysicalResourceId: 'orders-a' })).toEqual({ IsComplete: true });

  // The group is replaced: the resource now stands for the new group, and the old one is deleted.
  await createGroup('orders-b');
  const update: FinalSnapshotEvent = {
    RequestType: 'Update',
    PhysicalResourceId: 'orders-a',
    ResourceProperties: { ReplicationGroupId: 'orders-b', FinalSnapshotName: 'orders-final' },
    OldResourceProperties: props,
  };
  expect(await onEvent(update)).toEqual({ PhysicalResourceId: 'orders-b' });
  const deleteOld: FinalSnapshotEvent = { RequestType: 'Delete', PhysicalResourceId: 'orders-a', ResourceProperties: props };
  await onEvent(deleteOld);
  await complete(deleteOld);
  expect(await exists('orders-a')).toBe(false);
  const final = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'orders-final' }))).Snapshots![0];
  expect(final).toMatchObject({ SnapshotStatus: 'available', ReplicationGroupId: 'orders-a' });
  expect(final.NodeSnapshots![0].CacheClusterId).toBe('orders-a-001');
  expect(await exists('orders-b')).toBe(true);
});

test('a final snapshot name that is taken fails the deletion and deletes nothing', async () => {
  const del: FinalSnapshotEvent = { RequestType: 'Delete', PhysicalResourceId: 'orders-b', ResourceProperties: { ReplicationGroupId: 'orders-b', FinalSnapshotName: 'orders-final' } };
  await expect(onEvent(del)).rejects.toThrow(
    "Final snapshot 'orders-final' already exists, so replication group 'orders-b' was not deleted; delete or rename that snapshot, or give backup.finalSnapshotName a new name, and retry");
  expect(await exists('orders-b')).toBe(true);
});

test('a group that is busy is deleted once it is available again', async () => {
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'orders-b', SnapshotName: 'busy-now' }));
  const del: FinalSnapshotEvent = { RequestType: 'Delete', PhysicalResourceId: 'orders-b', ResourceProperties: { ReplicationGroupId: 'orders-b', FinalSnapshotName: 'orders-b-final' } };
  await onEvent(del);
  expect((await isComplete(del)).IsComplete).toBe(false);
  await complete(del);
  expect(await exists('orders-b')).toBe(false);
  const final = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'orders-b-final' }))).Snapshots![0];
  expect(final.SnapshotStatus).toBe('available');
});

test('a failed final snapshot fails the deletion and the group stays', async () => {
  await createGroup('orders-c');
  provider.elasticache(REGION).faults.failSnapshots = 1;
  const del: FinalSnapshotEvent = { RequestType: 'Delete', PhysicalResourceId: 'orders-c', ResourceProperties: { ReplicationGroupId: 'orders-c', FinalSnapshotName: 'orders-c-final' } };
  await onEvent(del);
  await expect(complete(del)).rejects.toThrow("Final snapshot 'orders-c-final' of replication group 'orders-c' failed; the group was not deleted");
  expect(await exists('orders-c')).toBe(true);
});
