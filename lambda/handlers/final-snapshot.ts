/**
 * The custom resource that deletes a replication group with a named final snapshot
 * (`DeleteReplicationGroup` with `FinalSnapshotIdentifier`), which CloudFormation cannot do: its
 * `DeletionPolicy: Snapshot` names the snapshot itself. CloudFormation keeps the group
 * (`DeletionPolicy: RetainExceptOnCreate`, `UpdateReplacePolicy: Retain`) and this handler deletes it,
 * but only when the group itself is leaving the stack.
 *
 * - Create: nothing to do; the physical id is the group's id.
 * - Update: the physical id follows the group's id. When the group was replaced (a new id),
 *   CloudFormation later sends a Delete for the old id in its cleanup phase.
 * - Delete: this resource may be deleted while its group stays (the prop was removed or renamed,
 *   the construct moved, the stack rolls back). So it asks CloudFormation, and deletes the group
 *   only when:
 *   - the stack is being deleted (`DELETE_IN_PROGRESS`), or
 *   - an update completed and is cleaning up (`UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`), and the group's
 *     logical resource is gone from the template (the group was removed from the app) or now stands
 *     for another group (the group was replaced).
 *   In any other status (a rollback, an import) it deletes nothing: CloudFormation's own policy then
 *   applies (RetainExceptOnCreate deletes a group created by the failed operation and keeps any other).
 *   A deletion refuses, deleting nothing, when a snapshot of the final snapshot's name exists; it
 *   completes only once the snapshot is `available` and the group is gone.
 */
import { DeleteReplicationGroupCommand, InvalidReplicationGroupStateFault } from '@aws-sdk/client-elasticache';
import { describeGroup, describeSnapshot, elasticache } from './clients';
import { DeadlineEvent, enforceDeadline } from './deadline';
import { physicalIdOf, stackStatus, templateDeclares } from './stack';
import { FinalSnapshotResourceProperties } from '../../src/private/final-snapshot-contract';

export interface FinalSnapshotEvent extends DeadlineEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: FinalSnapshotResourceProperties;
  readonly OldResourceProperties?: FinalSnapshotResourceProperties;
  /**
   * Set by onEvent for a Delete: whether it decided to delete the group. The Provider framework
   * passes onEvent's answer on to isComplete, which deletes nothing unless this is true.
   */
  readonly DeleteGroup?: boolean;
}

export interface FinalSnapshotResponse {
  readonly PhysicalResourceId: string;
  readonly DeleteGroup?: boolean;
}

/** Whether the group `id` is leaving the stack, as CloudFormation tells it, and why. */
export async function groupLeaving(event: FinalSnapshotEvent, id: string): Promise<{ leaving: boolean; why: string }> {
  const status = await stackStatus(event.StackId);
  if (status === 'DELETE_IN_PROGRESS') {
    return { leaving: true, why: 'the stack is being deleted' };
  }
  if (status !== 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') {
    return { leaving: false, why: `the stack is ${status}; CloudFormation's own policy decides what happens to the group` };
  }
  const logicalId = event.ResourceProperties.ReplicationGroupLogicalId;
  if (!logicalId) {
    return { leaving: false, why: 'this resource does not record the group\'s logical id, so only a stack deletion deletes the group' };
  }
  if (!await templateDeclares(event.StackId, logicalId)) {
    return { leaving: true, why: `its resource ${logicalId} was removed from the stack` };
  }
  const now = await physicalIdOf(event.StackId, logicalId);
  if (now !== id) {
    return { leaving: true, why: `its resource ${logicalId} was replaced by replication group '${now}'` };
  }
  return { leaving: false, why: `its resource ${logicalId} is still in the stack` };
}

export async function onEvent(event: FinalSnapshotEvent): Promise<FinalSnapshotResponse> {
  const props = event.ResourceProperties;
  if (event.RequestType !== 'Delete') {
    return { PhysicalResourceId: props.ReplicationGroupId };
  }
  // The group this physical resource stands for (after a replacement, the old group, whose final
  // snapshot name comes with the old properties).
  const id = event.PhysicalResourceId!;
  const decision = await groupLeaving(event, id);
  if (!decision.leaving) {
    console.log(`Replication group '${id}' stays: ${decision.why}. Nothing is deleted.`);
    return { PhysicalResourceId: id, DeleteGroup: false };
  }
  const current = await describeGroup(id);
  if (!current) {
    console.log(`Replication group '${id}' is leaving (${decision.why}) but no longer exists. Nothing to delete.`);
    return { PhysicalResourceId: id, DeleteGroup: false };
  }
  const final = await describeSnapshot(props.FinalSnapshotName);
  if (final && current.Status === 'deleting' && final.ReplicationGroupId === id) {
    // A retry after an earlier attempt ran out of time: the deletion is under way; wait for it.
    console.log(`Replication group '${id}' is already being deleted with final snapshot '${props.FinalSnapshotName}'; waiting.`);
    return { PhysicalResourceId: id, DeleteGroup: true };
  }
  if (final) {
    throw new Error(`Final snapshot '${props.FinalSnapshotName}' already exists, so replication group '${id}' was not deleted; `
      + 'delete or rename that snapshot, or give backup.finalSnapshotName a new name, and retry');
  }
  console.log(`Deleting replication group '${id}' with final snapshot '${props.FinalSnapshotName}': ${decision.why}.`);
  return { PhysicalResourceId: id, DeleteGroup: true };
}

export async function isComplete(event: FinalSnapshotEvent): Promise<{ IsComplete: boolean }> {
  if (event.RequestType !== 'Delete' || event.DeleteGroup !== true) {
    return { IsComplete: true };
  }
  await enforceDeadline(event, () => deletionNotDone(event));
  const id = event.PhysicalResourceId!;
  const name = event.ResourceProperties.FinalSnapshotName;
  const [current, final] = [await describeGroup(id), await describeSnapshot(name)];
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
  if (!current && !final) {
    throw new Error(`Replication group '${id}' is gone but its final snapshot '${name}' does not exist; `
      + 'it was deleted by someone else, or the snapshot was; nothing more can be done here');
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
  const [current, final] = [await describeGroup(id), await describeSnapshot(name)];
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
