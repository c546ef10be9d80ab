/**
 * The custom resource behind `backup.snapshotBeforeUpdate`: a manual snapshot of the replication
 * group as it is, taken and verified `available` before CloudFormation changes the group.
 *
 * The group depends on this resource, and this resource's properties hold the group's properties,
 * so whenever CloudFormation is about to update or replace the group it updates this resource first,
 * and waits for it.
 *
 * - Create: nothing (the group does not exist yet, or nothing about it is changing).
 * - Update: when the group's properties changed and the stack is updating (not rolling back), a
 *   snapshot of the group named by the old properties (the group as it is now), tagged as this
 *   resource's; isComplete waits until it is `available` (a failed one fails the deployment before
 *   the group changes), then deletes this resource's own snapshots beyond `Keep`, oldest first.
 * - Delete: nothing; the snapshots are kept (manual snapshots outlive their group).
 */
import {
  CreateSnapshotCommand, DescribeSnapshotsCommand, InvalidCacheClusterStateFault, InvalidReplicationGroupStateFault, ListTagsForResourceCommand,
  Snapshot,
} from '@aws-sdk/client-elasticache';
import { deleteSnapshotIfPresent, describeGroup, describeSnapshot, elasticache } from './clients';
import { DeadlineEvent, enforceDeadline } from './deadline';
import { stackStatus } from './stack';
import {
  preUpdateSnapshotName, preUpdateSnapshotPattern, PreUpdateSnapshotResourceProperties,
} from '../../src/private/pre-update-snapshot-contract';
import { OWNER_TAG } from '../../src/private/redis-snapshot-contract';

export interface PreUpdateSnapshotEvent extends DeadlineEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: PreUpdateSnapshotResourceProperties;
  readonly OldResourceProperties?: PreUpdateSnapshotResourceProperties;
  /** Set by onEvent when it takes a snapshot; passed on to isComplete by the Provider framework. */
  readonly SnapshotName?: string;
}

export interface PreUpdateSnapshotResponse {
  readonly PhysicalResourceId: string;
  readonly SnapshotName?: string;
}

function owner(event: PreUpdateSnapshotEvent): string {
  return `${event.StackId}/${event.LogicalResourceId}`;
}

/** JSON with keys sorted, so that two property sets compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

/** Starts the snapshot; false when the group or member is busy (tried again at the next check). */
async function startSnapshot(event: PreUpdateSnapshotEvent, name: string): Promise<boolean> {
  const now = event.OldResourceProperties!;
  try {
    await elasticache().send(new CreateSnapshotCommand({
      SnapshotName: name,
      ...(now.CacheClusterId ? { CacheClusterId: now.CacheClusterId } : { ReplicationGroupId: now.ReplicationGroupId }),
      Tags: [{ Key: OWNER_TAG, Value: owner(event) }],
    }));
    return true;
  } catch (e) {
    if (e instanceof InvalidReplicationGroupStateFault || e instanceof InvalidCacheClusterStateFault) return false;
    throw e;
  }
}

export async function onEvent(event: PreUpdateSnapshotEvent): Promise<PreUpdateSnapshotResponse> {
  const props = event.ResourceProperties;
  const physical = { PhysicalResourceId: props.ReplicationGroupId };
  if (event.RequestType !== 'Update') {
    return event.RequestType === 'Delete' ? { PhysicalResourceId: event.PhysicalResourceId! } : physical;
  }
  const old = event.OldResourceProperties!;
  if (canonical(old.GroupProperties) === canonical(props.GroupProperties) && old.ReplicationGroupId === props.ReplicationGroupId) {
    console.log(`Replication group '${props.ReplicationGroupId}' is not changing; no snapshot.`);
    return physical;
  }
  const status = await stackStatus(event.StackId);
  if (status !== 'UPDATE_IN_PROGRESS') {
    // A rollback puts back what the failed update changed; the snapshot before that update exists.
    console.log(`The stack is ${status}; no snapshot before this change.`);
    return physical;
  }
  if (!await describeGroup(old.ReplicationGroupId)) {
    console.log(`Replication group '${old.ReplicationGroupId}' does not exist; nothing to snapshot.`);
    return physical;
  }
  const name = preUpdateSnapshotName(props.SnapshotPrefix, new Date());
  console.log(`Snapshot '${name}' of replication group '${old.ReplicationGroupId}' before its update.`);
  await startSnapshot(event, name);
  return { ...physical, SnapshotName: name };
}

export async function isComplete(event: PreUpdateSnapshotEvent): Promise<{ IsComplete: boolean }> {
  const name = event.SnapshotName;
  if (event.RequestType !== 'Update' || !name) {
    return { IsComplete: true };
  }
  const groupId = event.OldResourceProperties!.ReplicationGroupId;
  await enforceDeadline(event, async () => {
    const s = await describeSnapshot(name);
    return s?.SnapshotStatus === 'available' ? undefined
      : `snapshot '${name}' of replication group '${groupId}' is ${s ? `'${s.SnapshotStatus}'` : 'not started (the group was busy)'}; `
        + 'the group was not changed (CloudFormation rolls the update back)';
  });
  const snapshot = await describeSnapshot(name);
  if (!snapshot) {
    await startSnapshot(event, name);
    return { IsComplete: false };
  }
  if (snapshot.SnapshotStatus === 'failed') {
    throw new Error(`Snapshot '${name}' of replication group '${groupId}', taken before its update, failed; `
      + 'the group was not changed (CloudFormation rolls the update back)');
  }
  if (snapshot.SnapshotStatus !== 'available') {
    return { IsComplete: false };
  }
  await prune(event, name);
  return { IsComplete: true };
}

/**
 * Deletes this resource's own snapshots (its name pattern and its owner tag) beyond `Keep`, oldest
 * first. The one just taken is always kept; snapshots that are not `available` are left alone.
 */
async function prune(event: PreUpdateSnapshotEvent, current: string): Promise<void> {
  const props = event.ResourceProperties;
  const keep = Math.max(1, Number(props.Keep));
  const pattern = preUpdateSnapshotPattern(props.SnapshotPrefix);
  const candidates: Snapshot[] = [];
  let marker: string | undefined;
  do {
    const page = await elasticache().send(new DescribeSnapshotsCommand({ SnapshotSource: 'user', Marker: marker }));
    candidates.push(...(page.Snapshots ?? []).filter((s) => s.SnapshotName && pattern.test(s.SnapshotName)));
    marker = page.Marker;
  } while (marker);
  const own: Snapshot[] = [];
  for (const s of candidates) {
    const tags = (await elasticache().send(new ListTagsForResourceCommand({ ResourceName: s.ARN! }))).TagList ?? [];
    if (tags.some((t) => t.Key === OWNER_TAG && t.Value === owner(event))) own.push(s);
  }
  // Names end in their UTC time, so name order is time order.
  own.sort((a, b) => b.SnapshotName!.localeCompare(a.SnapshotName!));
  for (const s of own.slice(keep)) {
    if (s.SnapshotName !== current && s.SnapshotStatus === 'available') {
      console.log(`Deleting snapshot '${s.SnapshotName}': more than ${keep} snapshots before updates are kept.`);
      await deleteSnapshotIfPresent(s.SnapshotName!);
    }
  }
}
