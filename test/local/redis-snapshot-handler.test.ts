/**
 * The RedisSnapshot custom resource handler, run through its create/update/delete lifecycle
 * against the local provider (its plain SDK client reaches it through AWS_ENDPOINT_URL_ELASTICACHE).
 */
import {
  CreateSnapshotCommand, DescribeSnapshotsCommand, ElastiCacheClient,
  ListTagsForResourceCommand, Snapshot,
} from '@aws-sdk/client-elasticache';
import { createGroup } from './groups';
import { handlerEnvironment } from './handler-env';
import { isComplete, IsCompleteResponse, onEvent, SnapshotEvent } from '../../lambda/handlers/redis-snapshot';
import { LocalProvider } from '../../local/provider';
import { RedisSnapshotResourceProperties } from '../../src/private/redis-snapshot-contract';

jest.setTimeout(120_000);

const REGION = 'eu-central-1';
const STACK = 'arn:aws:cloudformation:eu-central-1:000000000000:stack/app/1234';
let provider: LocalProvider;
let ec: ElastiCacheClient;

function event(type: SnapshotEvent['RequestType'], props: Partial<RedisSnapshotResourceProperties>, extra: Partial<SnapshotEvent> = {}): SnapshotEvent {
  return {
    RequestType: type,
    StackId: STACK,
    LogicalResourceId: 'BeforeUpgrade',
    ResourceProperties: { ReplicationGroupId: 'app', SnapshotName: 'before-upgrade', Removal: 'retain', ...props },
    ...extra,
  };
}

/** Calls isComplete as the Provider framework does, until it says done. */
async function complete(e: SnapshotEvent): Promise<IsCompleteResponse> {
  for (let i = 0; i < 2000; i++) {
    const out = await isComplete(e);
    if (out.IsComplete) return out;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('isComplete never said done');
}

async function snapshots(): Promise<Snapshot[]> {
  return (await ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: 'app' }))).Snapshots ?? [];
}

const local = handlerEnvironment(REGION);

beforeAll(async () => {
  ({ provider, ec } = local);
  await createGroup(ec, 'app');
});

test('create takes the snapshot from the named member, tags it as the resource, and waits until it is available', async () => {
  const create = event('Create', { CacheClusterId: 'app-002' });
  const started = await onEvent(create);
  expect(started).toEqual({ PhysicalResourceId: 'before-upgrade' });
  const done = await complete({ ...create, PhysicalResourceId: started.PhysicalResourceId });
  expect(done.Data).toEqual({ SnapshotName: 'before-upgrade', SnapshotArn: `arn:aws:elasticache:${REGION}:000000000000:snapshot:before-upgrade` });
  const [snapshot] = await snapshots();
  expect(snapshot.NodeSnapshots![0].CacheClusterId).toBe('app-002');
  const tags = await ec.send(new ListTagsForResourceCommand({ ResourceName: snapshot.ARN }));
  expect(tags.TagList).toEqual([{ Key: 'cdk-elasticache-backup:resource', Value: `${STACK}/BeforeUpgrade` }]);
});

test('a retried create finds its own snapshot and resumes, without a second one', async () => {
  const retry = await onEvent(event('Create', { CacheClusterId: 'app-002' }));
  expect(retry.PhysicalResourceId).toBe('before-upgrade');
  expect((await snapshots()).map((s) => s.SnapshotName)).toEqual(['before-upgrade']);
});

test('a name taken by a snapshot of someone else fails before anything changes', async () => {
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'app', SnapshotName: 'someone-elses' }));
  await expect(onEvent(event('Create', { SnapshotName: 'someone-elses' }))).rejects.toThrow(
    "Snapshot 'someone-elses' already exists and was not taken by BeforeUpgrade; choose another snapshotName (nothing was changed)");
  await expect(onEvent(event('Create', { SnapshotName: 'someone-elses' }, { LogicalResourceId: 'Other' }))).rejects.toThrow(/was not taken by Other/);
});

test('an update with a new name takes a new snapshot; deleting the old one follows its removal policy', async () => {
  await complete({ ...event('Create', { SnapshotName: 'someone-elses' }), PhysicalResourceId: 'someone-elses' });
  const old = { ReplicationGroupId: 'app', SnapshotName: 'before-upgrade', Removal: 'destroy' as const };
  const update = event('Update', { SnapshotName: 'before-upgrade-2', Removal: 'destroy' }, { OldResourceProperties: old, PhysicalResourceId: 'before-upgrade' });
  const started = await onEvent(update);
  expect(started.PhysicalResourceId).toBe('before-upgrade-2');
  await complete({ ...update, PhysicalResourceId: 'before-upgrade-2' });
  // CloudFormation then deletes the old physical resource with the old properties.
  const deleteOld = event('Delete', old, { PhysicalResourceId: 'before-upgrade' });
  await onEvent(deleteOld);
  await complete(deleteOld);
  expect((await snapshots()).map((s) => s.SnapshotName).sort()).toEqual(['before-upgrade-2', 'someone-elses']);
});

test('an update without a new name changes nothing', async () => {
  const update = event('Update', { SnapshotName: 'before-upgrade-2', Removal: 'retain' }, {
    OldResourceProperties: { ReplicationGroupId: 'app', SnapshotName: 'before-upgrade-2', Removal: 'destroy' }, PhysicalResourceId: 'before-upgrade-2',
  });
  expect(await onEvent(update)).toEqual({ PhysicalResourceId: 'before-upgrade-2' });
  expect((await snapshots()).length).toBe(2);
});

test('delete keeps a retained snapshot', async () => {
  const del = event('Delete', { SnapshotName: 'before-upgrade-2', Removal: 'retain' }, { PhysicalResourceId: 'before-upgrade-2' });
  await onEvent(del);
  expect((await complete(del)).IsComplete).toBe(true);
  expect((await snapshots()).map((s) => s.SnapshotName)).toContain('before-upgrade-2');
});

test('delete of a snapshot still being created waits for it, then deletes it', async () => {
  const create = event('Create', { SnapshotName: 'short-lived', Removal: 'destroy' }, { LogicalResourceId: 'ShortLived' });
  await onEvent(create);
  const del = { ...create, RequestType: 'Delete' as const, PhysicalResourceId: 'short-lived' };
  await onEvent(del);
  expect((await isComplete(del)).IsComplete).toBe(false);
  await complete(del);
  expect((await snapshots()).map((s) => s.SnapshotName)).not.toContain('short-lived');
});

test('a failed snapshot fails the deployment with the cause', async () => {
  provider.elasticache(REGION).faults.failSnapshots = 1;
  const create = event('Create', { SnapshotName: 'doomed' }, { LogicalResourceId: 'Doomed' });
  await onEvent(create);
  await expect(complete({ ...create, PhysicalResourceId: 'doomed' })).rejects.toThrow("Snapshot 'doomed' failed (ElastiCache status 'failed')");
});
