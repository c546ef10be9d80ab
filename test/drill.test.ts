import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { synthesizeExample } from '../local/drill';
import { summarizeTemplate } from '../local/summary';

jest.setTimeout(120_000);

test('stage 1 of the drill synthesizes the example app for the local provider\'s account and reports what it declares', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-test-'));
  try {
    const result = synthesizeExample(outdir);
    const text = result.lines.join('\n');
    expect(result.replicationGroups).toBe(1);
    expect(text).toContain('Replication group orders (OrdersA9B65338)');
    expect(text).toContain('nodes        cache.r7g.large, cluster mode disabled, 1 primary + 1 replica, Multi-AZ');
    expect(text).toContain('backups      kept 15 days, window chosen by ElastiCache, from member orders-002');
    expect(text).toContain('security     TLS required, encrypted at rest, Redis AUTH');
    expect(text).toMatch(/cdk-nag AwsSolutions: 0 unacknowledged finding\(s\), \d+ acknowledged with a reason/);
    // For the local provider's one account, whatever CDK_INTEG_ACCOUNT says.
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf-8'));
    expect(manifest.artifacts.ExportPrimary.environment).toBe('aws://000000000000/eu-west-1');
    expect(manifest.artifacts.ExportRecovery.environment).toBe('aws://000000000000/us-west-2');
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
