/**
 * The custom resource handler of `RedisSnapshot`, for the Provider framework: `onEvent` starts the
 * work, `isComplete` checks it (a pure status check, called until it says done).
 *
 * - Create (and Update with a new name): take the snapshot, tagged as this resource's. A snapshot
 *   of that name that carries this resource's tag is resumed, never duplicated; one that does not
 *   fails the deployment before anything changes.
 * - Update without a new name: nothing to do (the removal policy is read at deletion).
 * - Delete: `destroy` deletes the snapshot once it is no longer being created; `retain` keeps it.
 *
 * Each request has the resource's own timeout (`TimeoutSeconds`), kept by `enforceDeadline`.
 */
import { CreateSnapshotCommand, ListTagsForResourceCommand } from '@aws-sdk/client-elasticache';
import { deleteSnapshotIfPresent, describeSnapshot, elasticache } from './clients';
import { DeadlineEvent, enforceDeadline } from './deadline';
import { OWNER_TAG, RedisSnapshotAttributes, RedisSnapshotResourceProperties } from '../../src/private/redis-snapshot-contract';

export interface SnapshotEvent extends DeadlineEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: RedisSnapshotResourceProperties & { ServiceToken?: string };
  readonly OldResourceProperties?: RedisSnapshotResourceProperties & { ServiceToken?: string };
}

export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: RedisSnapshotAttributes;
}

export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: RedisSnapshotAttributes;
}

function owner(event: SnapshotEvent): string {
  return `${event.StackId}/${event.LogicalResourceId}`;
}


async function create(event: SnapshotEvent): Promise<OnEventResponse> {
  const props = event.ResourceProperties;
  const existing = await describeSnapshot(props.SnapshotName);
  if (existing) {
    const tags = (await elasticache().send(new ListTagsForResourceCommand({ ResourceName: existing.ARN! }))).TagList ?? [];
    if (tags.some((t) => t.Key === OWNER_TAG && t.Value === owner(event))) {
      // A retry of this very request: resume waiting for it.
      return { PhysicalResourceId: props.SnapshotName };
    }
    throw new Error(`Snapshot '${props.SnapshotName}' already exists and was not taken by ${event.LogicalResourceId}; `
      + 'choose another snapshotName (nothing was changed)');
  }
  await elasticache().send(new CreateSnapshotCommand({
    SnapshotName: props.SnapshotName,
    ...(props.CacheClusterId ? { CacheClusterId: props.CacheClusterId } : { ReplicationGroupId: props.ReplicationGroupId }),
    Tags: [{ Key: OWNER_TAG, Value: owner(event) }],
  }));
  return { PhysicalResourceId: props.SnapshotName };
}

export async function onEvent(event: SnapshotEvent): Promise<OnEventResponse> {
  switch (event.RequestType) {
    case 'Create':
      return create(event);
    case 'Update':
      if (event.ResourceProperties.SnapshotName !== event.OldResourceProperties?.SnapshotName) {
        // A new name is a new snapshot; CloudFormation then deletes the old physical resource,
        // which follows the old properties' removal policy.
        return create(event);
      }
      return { PhysicalResourceId: event.PhysicalResourceId! };
    case 'Delete':
      // Deleting is done by isComplete, once the snapshot is no longer being created.
      return { PhysicalResourceId: event.PhysicalResourceId! };
    default:
      throw new Error(`unknown request type ${(event as { RequestType: string }).RequestType}`);
  }
}

export async function isComplete(event: SnapshotEvent): Promise<IsCompleteResponse> {
  await enforceDeadline(event, () => notDone(event));
  const name = event.PhysicalResourceId!;
  const snapshot = await describeSnapshot(name);
  if (event.RequestType === 'Delete') {
    if (event.ResourceProperties.Removal !== 'destroy' || !snapshot) {
      return { IsComplete: true };
    }
    if (snapshot.SnapshotStatus === 'available' || snapshot.SnapshotStatus === 'failed') {
      await deleteSnapshotIfPresent(name);
    }
    return { IsComplete: false };
  }
  if (!snapshot) {
    throw new Error(`Snapshot '${name}' disappeared while it was being created`);
  }
  switch (snapshot.SnapshotStatus) {
    case 'available':
      return { IsComplete: true, Data: { SnapshotName: name, SnapshotArn: snapshot.ARN! } };
    case 'failed':
      throw new Error(`Snapshot '${name}' failed (ElastiCache status 'failed'); the group may lack reserved memory for the save`);
    default:
      return { IsComplete: false };
  }
}

/** What a request past its deadline has not done; undefined when it is done or isComplete reports the outcome. */
async function notDone(event: SnapshotEvent): Promise<string | undefined> {
  const name = event.PhysicalResourceId!;
  const snapshot = await describeSnapshot(name);
  const status = snapshot?.SnapshotStatus;
  if (event.RequestType === 'Delete') {
    if (event.ResourceProperties.Removal !== 'destroy' || !snapshot) return undefined;
    return status === 'deleting'
      ? `snapshot '${name}' is still being deleted (ElastiCache status 'deleting'); ElastiCache finishes the deletion`
      : `snapshot '${name}' was not deleted (ElastiCache status '${status}') and is kept; delete it once it is available if it is not wanted`;
  }
  if (!snapshot || status === 'available' || status === 'failed') return undefined;
  return `snapshot '${name}' is not available yet (ElastiCache status '${status}'); ElastiCache goes on taking it, `
    + 'and the resource\'s removal policy decides whether it is kept when CloudFormation rolls back';
}
