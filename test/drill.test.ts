import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runDrill } from '../local/drill';
import { summarizeTemplate } from '../local/summary';

test('the drill synthesizes the example app and reports each group and its backup plan', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-test-'));
  try {
    const result = runDrill(outdir);
    const text = result.lines.join('\n');
    expect(result.replicationGroups).toBe(2);
    expect(text).toMatch(/backups {6}kept 15 days, window 05:00-06:00 UTC, from member elasticachebackpplan-sessions-[0-9a-f]{8}-002/);
    expect(text).toContain('maintenance  sun:23:00-mon:00:30 UTC');
    expect(text).toContain('nodes        cache.r7g.large, cluster mode enabled, 3 shards of 1 primary + 1 replica, Multi-AZ');
    expect(text).toContain('(slots 0-5460, 5461-10922, 10923-16383)');
    expect(text).toContain('on delete    Snapshot (on replacement: Snapshot)');
    expect(text).toContain('cdk-nag AwsSolutions: 0 unacknowledged finding(s), 4 acknowledged with a reason');
    expect(fs.existsSync(path.join(outdir, 'ElastiCacheBackupPlan.template.json'))).toBe(true);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test('the summary says when backups are off, and how clients authenticate', () => {
  const lines = summarizeTemplate('S', {
    Resources: {
      G: {
        Type: 'AWS::ElastiCache::ReplicationGroup',
        DeletionPolicy: 'Retain',
        Properties: {
          ReplicationGroupId: 'g',
          CacheNodeType: 'cache.t4g.small',
          NumCacheClusters: 1,
          SnapshotRetentionLimit: 0,
          TransitEncryptionEnabled: true,
          AtRestEncryptionEnabled: false,
          UserGroupIds: ['app'],
          SnapshotName: 'before',
        },
      },
    },
  });
  expect(lines).toEqual([
    'Stack S: 1 resources',
    '    1 AWS::ElastiCache::ReplicationGroup',
    'Replication group g (G)',
    '  nodes        cache.t4g.small, cluster mode disabled, 1 primary + 0 replicas',
    '  backups      off (no automatic snapshots)',
    '  maintenance  window chosen by ElastiCache',
    '  on delete    Retain (on replacement: Delete)',
    '  seeded from  snapshot before',
    '  security     TLS on, not encrypted at rest, user groups app',
  ]);
});
