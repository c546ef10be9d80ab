/**
 * Waits for ElastiCache resources through the SDK, as a caller of the real service would: a group
 * until `available`, a snapshot until `available`. A terminal failure status ends the wait with an
 * error instead of waiting out the timeout.
 */
import { DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient, ReplicationGroup, Snapshot } from '@aws-sdk/client-elasticache';
import { until } from './poll';

export function groupAvailable(client: ElastiCacheClient, id: string, timeoutMs?: number, intervalMs?: number): Promise<ReplicationGroup> {
  return until(`${id} available`, async () => {
    const g = (await client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups![0];
    if (g.Status === 'create-failed' || g.Status === 'restore-failed') throw new Error(`${id} ended ${g.Status}`);
    return g.Status === 'available' ? g : undefined;
  }, timeoutMs, intervalMs);
}

export function snapshotAvailable(client: ElastiCacheClient, name: string, timeoutMs?: number, intervalMs?: number): Promise<Snapshot> {
  return until(`${name} available`, async () => {
    const s = (await client.send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots![0];
    if (s.SnapshotStatus === 'failed') throw new Error(`snapshot ${name} failed`);
    return s.SnapshotStatus === 'available' ? s : undefined;
  }, timeoutMs, intervalMs);
}
