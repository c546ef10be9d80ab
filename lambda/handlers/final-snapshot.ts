/**
 * The custom resource that deletes a replication group with a named final snapshot
 * (`DeleteReplicationGroup` with `FinalSnapshotIdentifier`), which CloudFormation cannot do: its
 * `DeletionPolicy: Snapshot` names the snapshot itself. The group is kept by CloudFormation
 * (DeletionPolicy Retain) and deleted here.
 *
 * - Create: nothing to do; the physical id is the group's id.
 * - Update to another group (the group was replaced): the new group's id becomes the physical id,
 *   and CloudFormation then deletes the old one through this handler.
 * - Delete: refuses, deleting nothing, when a snapshot of that name exists; otherwise deletes the
 *   group with its final snapshot (from the primary), and completes only once the snapshot is
 *   `available` and the group is gone.
 */
import {
  DeleteReplicationGroupCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, InvalidReplicationGroupStateFault,
  ReplicationGroup, ReplicationGroupNotFoundFault, Snapshot, SnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { elasticache } from './clients';
import { DeadlineEvent, enforceDeadline } from './deadline';
import { FinalSnapshotResourceProperties } from '../../src/private/final-snapshot-contract';

export interface FinalSnapshotEvent extends DeadlineEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: FinalSnapshotResourceProperties;
  readonly OldResourceProperties?: FinalSnapshotResourceProperties;
}

async function group(id: string): Promise<ReplicationGroup | undefined> {
  try {
    return (await elasticache().send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups?.[0];
  } catch (e) {
    if (e instanceof ReplicationGroupNotFoundFault) return undefined;
    throw e;
  }
}

async function snapshot(name: string): Promise<Snapshot | undefined> {
  try {
    return (await elasticache().send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots?.[0];
  } catch (e) {
    if (e instanceof SnapshotNotFoundFault) return undefined;
    throw e;
  }
}

export async function onEvent(event: FinalSnapshotEvent): Promise<{ PhysicalResourceId: string }> {
  const props = event.ResourceProperties;
  if (event.RequestType !== 'Delete') {
    return { PhysicalResourceId: props.ReplicationGroupId };
  }
  // The group being deleted is the one this physical resource stands for (after a replacement,
  // the old group, whose final snapshot name comes with the old properties).
  const id = event.PhysicalResourceId!;
  if (await group(id) && await snapshot(props.FinalSnapshotName)) {
    throw new Error(`Final snapshot '${props.FinalSnapshotName}' already exists, so replication group '${id}' was not deleted; `
      + 'delete or rename that snapshot, or give backup.finalSnapshotName a new name, and retry');
  }
  return { PhysicalResourceId: id };
}

export async function isComplete(event: FinalSnapshotEvent): Promise<{ IsComplete: boolean }> {
  await enforceDeadline(event, () => deletionNotDone(event));
  if (event.RequestType !== 'Delete') {
    return { IsComplete: true };
  }
  const id = event.PhysicalResourceId!;
  const name = event.ResourceProperties.FinalSnapshotName;
  const [current, final] = [await group(id), await snapshot(name)];
  if (final?.SnapshotStatus === 'failed') {
    throw new Error(`Final snapshot '${name}' of replication group '${id}' failed; the group was not deleted`);
  }
  if (current && current.Status !== 'deleting') {
    if (final) {
      // Our final snapshot is under way or done and the group is not being deleted: ElastiCache
      // kept the group (the snapshot failed to start the deletion); wait for the snapshot first.
      return { IsComplete: false };
    }
    try {
      await elasticache().send(new DeleteReplicationGroupCommand({ ReplicationGroupId: id, FinalSnapshotIdentifier: name }));
    } catch (e) {
      // Busy (e.g. snapshotting): try again at the next check.
      if (!(e instanceof InvalidReplicationGroupStateFault)) throw e;
    }
    return { IsComplete: false };
  }
  // Done when the group is gone and its final snapshot is available (verified, not assumed).
  return { IsComplete: !current && final?.SnapshotStatus === 'available' };
}

/**
 * What a deletion past its deadline has not done; undefined when it is done or isComplete reports
 * the outcome. ElastiCache cannot cancel a deletion once started ("you cannot cancel or revert this
 * operation", and the group is deleted once its final snapshot is taken: ElastiCache API Reference,
 * DeleteReplicationGroup), so a deletion under way finishes without CloudFormation.
 */
async function deletionNotDone(event: FinalSnapshotEvent): Promise<string | undefined> {
  if (event.RequestType !== 'Delete') return undefined;
  const id = event.PhysicalResourceId!;
  const name = event.ResourceProperties.FinalSnapshotName;
  const [current, final] = [await group(id), await snapshot(name)];
  if (final?.SnapshotStatus === 'failed') return undefined;
  const state = final ? `'${final.SnapshotStatus}'` : 'not started';
  if (!current) {
    return final?.SnapshotStatus === 'available' ? undefined : `replication group '${id}' is gone but its final snapshot '${name}' is ${state}`;
  }
  if (current.Status === 'deleting') {
    return `final snapshot '${name}' of replication group '${id}' is ${state}; ElastiCache deletes the group once that snapshot is available `
      + '(a deletion cannot be stopped). Wait until the snapshot is available and the group gone, then delete the stack again if its deletion failed';
  }
  return `replication group '${id}' was not deleted (status '${current.Status}') and its final snapshot '${name}' is ${state}; `
    + 'nothing was deleted. Once the group is available, delete the stack again (after a replacement: delete the old group with a final snapshot yourself)';
}
