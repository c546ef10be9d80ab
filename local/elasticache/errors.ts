/**
 * ElastiCache's errors, one named constructor each: the wire code (the SDK picks its exception
 * class from it), the HTTP status and the message. Codes and statuses are the service model's
 * (ElastiCache API reference, "Errors" of each action); messages follow ElastiCache's where they are
 * documented and otherwise say what was wrong.
 */
import { ServiceError } from './query';

export { ServiceError };

/** InvalidParameterValue (400): a value is out of range or badly formed. */
export function invalidParameterValue(message: string): ServiceError {
  return new ServiceError('InvalidParameterValue', message);
}

/** InvalidParameterCombination (400): values that cannot be used together. */
export function invalidParameterCombination(message: string): ServiceError {
  return new ServiceError('InvalidParameterCombination', message);
}

/** NotImplemented (501): something ElastiCache does that the local provider does not emulate. */
export function notImplemented(message: string): ServiceError {
  return new ServiceError('NotImplemented', message, 501);
}

export function invalidName(kind: string, max: number): ServiceError {
  return invalidParameterValue(
    `${kind} must contain from 1 to ${max} alphanumeric characters or hyphens; must begin with a letter; can't end with a hyphen or contain two consecutive hyphens.`);
}

export function replicationGroupNotFound(id: string | undefined): ServiceError {
  return new ServiceError('ReplicationGroupNotFoundFault', `ReplicationGroup ${id} not found.`, 404);
}

export function replicationGroupAlreadyExists(id: string): ServiceError {
  return new ServiceError('ReplicationGroupAlreadyExists', `Replication group ${id} already exists.`);
}

export function invalidReplicationGroupState(id: string, status: string): ServiceError {
  return new ServiceError('InvalidReplicationGroupState', `Replication group ${id} is not in available state (it is ${status}).`);
}

export function finalSnapshotNeedsAvailable(id: string, status: string): ServiceError {
  return new ServiceError('InvalidReplicationGroupState', `Replication group ${id} must be available to take a final snapshot (it is ${status}).`);
}

export function cacheClusterNotFound(id: string): ServiceError {
  return new ServiceError('CacheClusterNotFound', `CacheCluster ${id} not found.`, 404);
}

export function invalidCacheClusterState(message: string): ServiceError {
  return new ServiceError('InvalidCacheClusterState', message);
}

export function snapshotNotFound(name: string): ServiceError {
  return new ServiceError('SnapshotNotFoundFault', `Snapshot ${name} not found.`, 404);
}

export function snapshotAlreadyExists(name: string): ServiceError {
  return new ServiceError('SnapshotAlreadyExistsFault', `Snapshot ${name} already exists.`);
}

export function invalidSnapshotState(name: string, status: string): ServiceError {
  return new ServiceError('InvalidSnapshotState', `Snapshot ${name} is not in available state (it is ${status}).`);
}

export function automaticSnapshotNotDeletable(name: string): ServiceError {
  return new ServiceError('InvalidSnapshotState', `Automatic snapshot ${name} cannot be deleted; it expires with the retention period.`);
}

export function snapshotQuotaExceeded(quota: number, node: string): ServiceError {
  return new ServiceError('SnapshotQuotaExceededFault',
    `The request cannot be processed because it would exceed the maximum number of manual snapshots (${quota}) allowed for node ${node} in a 24-hour period.`);
}

export function snapshotFeatureNotSupported(nodeType: string): ServiceError {
  return new ServiceError('SnapshotFeatureNotSupportedFault', `Snapshots are not supported for cache node type ${nodeType}.`);
}

export function nodeGroupNotFound(nodeGroupId: string, groupId: string): ServiceError {
  return new ServiceError('NodeGroupNotFoundFault', `Node group ${nodeGroupId} not found in replication group ${groupId}.`, 404);
}

export function testFailoverNotAvailable(nodeGroupId: string, groupId: string): ServiceError {
  return new ServiceError('TestFailoverNotAvailableFault',
    `Test failover is not available for node group ${nodeGroupId} of ${groupId}: it needs automatic failover and a replica.`);
}

export function invalidArn(message: string): ServiceError {
  return new ServiceError('InvalidARN', message);
}

export function tagNotFound(key: string, arn: string): ServiceError {
  return new ServiceError('TagNotFound', `Tag ${key} not found on ${arn}.`, 404);
}

/** A failure injected by a test (`failNextCalls`): HTTP 500 for InternalFailure and ServiceUnavailable, else 400. */
export function injected(code: string, status: number): ServiceError {
  return new ServiceError(code, `Injected fault: ${code}`, status);
}
