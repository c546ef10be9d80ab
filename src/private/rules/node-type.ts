import { Token } from 'aws-cdk-lib';

/**
 * Node types are named `cache.<family>.<size>`, e.g. `cache.r7g.large` (the ElastiCache user
 * guide's "Supported node types"). Only the shape is checked, not that the type exists in the
 * region. A token is not checked.
 */
export function checkNodeType(nodeType: string): void {
  if (Token.isUnresolved(nodeType)) {
    return;
  }
  if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(nodeType)) {
    throw new Error(`nodeType '${nodeType}' is not an ElastiCache node type such as 'cache.r7g.large'`);
  }
}

/**
 * Data tiering runs on the r6gd node types only (the ElastiCache user guide's "Data tiering" page);
 * snapshots of such groups cannot be exported to S3 and restore only into data-tiering nodes.
 * False for a token.
 */
export function isDataTiering(nodeType: string): boolean {
  return !Token.isUnresolved(nodeType) && /^cache\.r6gd\./.test(nodeType);
}

/**
 * A `cache.t1.micro` node cannot be snapshotted: "Creating a snapshot of a Valkey or Redis OSS
 * cluster running on a cache.t1.micro cache node" is not supported (ElastiCache API Reference,
 * SnapshotFeatureNotSupportedFault). Checked with cluster mode disabled only, as the library always
 * has (whether t1 nodes take cluster mode at all is not confirmed here). False for a token.
 */
export function cannotSnapshot(nodeType: string, clustered: boolean): boolean {
  return !clustered && !Token.isUnresolved(nodeType) && nodeType === 'cache.t1.micro';
}
