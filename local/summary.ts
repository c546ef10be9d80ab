/**
 * Reads a synthesized CloudFormation template and describes, in a few lines a person can check,
 * what it declares: its resources by type, and each replication group's backup settings.
 */

type Json = any;

/** The text of a value that may be an intrinsic function. */
function show(value: Json): string {
  if (value === undefined || value === null) {
    return '-';
  }
  if (typeof value !== 'object') {
    return String(value);
  }
  if ('Ref' in value) {
    return `<Ref ${value.Ref}>`;
  }
  if ('Fn::GetAtt' in value) {
    return `<GetAtt ${[].concat(value['Fn::GetAtt']).join('.')}>`;
  }
  if ('Fn::Join' in value) {
    const [sep, parts] = value['Fn::Join'];
    return (parts as Json[]).map(show).join(sep);
  }
  return JSON.stringify(value);
}

/** A one-line description of the nodes of a group. */
function topology(p: Json): string {
  const clustered = p.ClusterMode === 'enabled' || p.NumNodeGroups !== undefined;
  if (clustered) {
    const shards = p.NumNodeGroups ?? 1;
    const replicas = p.ReplicasPerNodeGroup ?? 0;
    return `${p.CacheNodeType}, cluster mode enabled, ${show(shards)} shard${shards === 1 ? '' : 's'} of 1 primary + ${show(replicas)} replica${replicas === 1 ? '' : 's'}`;
  }
  const replicas = (p.NumCacheClusters ?? 1) - 1;
  return `${p.CacheNodeType}, cluster mode disabled, 1 primary + ${replicas} replica${replicas === 1 ? '' : 's'}`;
}

function backups(p: Json): string {
  const days = p.SnapshotRetentionLimit;
  if (days === undefined || days === 0) {
    return 'off (no automatic snapshots)';
  }
  const window = p.SnapshotWindow ? `window ${show(p.SnapshotWindow)} UTC` : 'window chosen by ElastiCache';
  const source = p.SnapshottingClusterId ? `from member ${show(p.SnapshottingClusterId)}` : 'from every shard (group level)';
  return `kept ${show(days)} day${days === 1 ? '' : 's'}, ${window}, ${source}`;
}

function seed(p: Json): string {
  if (p.SnapshotName) {
    return `snapshot ${show(p.SnapshotName)}`;
  }
  if (p.SnapshotArns) {
    const slots = (p.NodeGroupConfiguration ?? []).map((g: Json) => g.Slots);
    const arns = (p.SnapshotArns as Json[]).map(show).join(', ');
    return `RDB files ${arns}${slots.length ? ` (slots ${slots.join(', ')})` : ''}`;
  }
  return 'empty';
}

function security(p: Json): string {
  const parts: string[] = [];
  parts.push(p.TransitEncryptionEnabled ? `TLS ${p.TransitEncryptionMode ?? 'on'}` : 'no TLS');
  parts.push(p.AtRestEncryptionEnabled ? `encrypted at rest${p.KmsKeyId ? ` with ${show(p.KmsKeyId)}` : ''}` : 'not encrypted at rest');
  if (p.AuthToken) {
    parts.push('Redis AUTH');
  } else if (p.UserGroupIds) {
    parts.push(`user groups ${(p.UserGroupIds as Json[]).map(show).join(', ')}`);
  } else {
    parts.push('no authentication');
  }
  return parts.join(', ');
}

/**
 * The summary of one stack's template, as lines of text.
 */
export function summarizeTemplate(stackName: string, template: Json): string[] {
  const resources: Record<string, Json> = template.Resources ?? {};
  const counts = new Map<string, number>();
  for (const r of Object.values(resources)) {
    counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  }
  const lines = [`Stack ${stackName}: ${Object.keys(resources).length} resources`];
  for (const [type, n] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${String(n).padStart(3)} ${type}`);
  }
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::ElastiCache::ReplicationGroup') {
      continue;
    }
    const p = r.Properties ?? {};
    lines.push(`Replication group ${show(p.ReplicationGroupId)} (${logicalId})`);
    lines.push(`  nodes        ${topology(p)}${p.MultiAZEnabled ? ', Multi-AZ' : ''}`);
    lines.push(`  backups      ${backups(p)}`);
    lines.push(`  maintenance  ${p.PreferredMaintenanceWindow ? `${show(p.PreferredMaintenanceWindow)} UTC` : 'window chosen by ElastiCache'}`);
    lines.push(`  on delete    ${r.DeletionPolicy ?? 'Delete'} (on replacement: ${r.UpdateReplacePolicy ?? 'Delete'})`);
    lines.push(`  seeded from  ${seed(p)}`);
    lines.push(`  security     ${security(p)}`);
  }
  return lines;
}
