import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runDrill } from '../local/drill';
import { summarizeTemplate } from '../local/summary';

jest.setTimeout(120_000);

test('the drill synthesizes the example app, reports its backup plan, and rehearses the DR path', async () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-test-'));
  try {
    const result = await runDrill(outdir);
    const text = result.lines.join('\n');
    expect(result.replicationGroups).toBe(2);
    expect(text).toMatch(/backups {6}kept 15 days, window 05:00-06:00 UTC, from member elasticachebackpplan-sessions-[0-9a-f]{8}-002/);
    expect(text).toContain('maintenance  sun:23:00-mon:00:30 UTC');
    expect(text).toContain('nodes        cache.r7g.large, cluster mode enabled, 3 shards of 1 primary + 1 replica, Multi-AZ');
    expect(text).toContain('(slots 0-5460, 5461-10922, 10923-16383)');
    expect(text).toContain('on delete    Snapshot (on replacement: Snapshot)');
    // 4 by the app (AEC5 and SMG4 on each of its two groups), 18 by the library on the provider of
    // the sessions group's snapshots before updates (its functions' roles and the framework's).
    expect(text).toContain('cdk-nag AwsSolutions: 0 unacknowledged finding(s), 22 acknowledged with a reason');
    expect(fs.existsSync(path.join(outdir, 'ElastiCacheBackupPlan.template.json'))).toBe(true);
    // Stage 2: the declared group (1 primary + 2 replicas) is snapshotted from its declared source
    // (member -002), exported, replicated, restored and read back through the DNS name.
    expect(text).toContain('create the declared group in eu-west-1 (cache.r7g.large, 2 replicas)');
    expect(text).toContain('    taken from drill-primary-002');
    expect(result.keysRestored).toBe(10_000);
    expect(text).toMatch(/Drill passed: 10,000 keys read back through the DNS name, now pointing at drill-standby\.[a-z0-9]{6}\.ng\.0001\.usw2\.cache\.amazonaws\.com/);
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
