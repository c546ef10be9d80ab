/**
 * What the drill finds in a synthesized app (local/drill/plan.ts): the library's workflows by their
 * state machines' metadata, paired export -> restore by prefix and region, and what it cannot drill.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { buildApp } from '../integ/integ.scheduled-export';
import { planDrill } from '../local/drill/plan';
import { RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, StandbyRestore } from '../src';

let dirs: string[] = [];
function outdir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-plan-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

test('the example app: one export paired with the restore in the replica\'s region, nothing left out', () => {
  const dir = outdir();
  buildApp(dir).synth();
  const plan = planDrill(dir);
  expect(plan.cannot).toEqual([]);
  expect(plan.stacks.map((s) => `${s.name}@${s.region}`).sort()).toEqual(['ExportPrimary@eu-west-1', 'ExportRecovery@us-west-2']);
  expect(plan.pairs).toHaveLength(1);
  const [pair] = plan.pairs;
  expect(pair.exportWorkflow).toMatchObject({ stackName: 'ExportPrimary', region: 'eu-west-1', description: { kind: 'scheduled-export', keep: 7 } });
  expect(pair.restoreWorkflow).toMatchObject({ stackName: 'ExportRecovery', region: 'us-west-2', description: { kind: 'standby-restore', recordName: 'orders.corp.internal.' } });
  expect(pair.restoreWorkflow.description.snapshotPrefix).toBe(pair.exportWorkflow.description.snapshotPrefix);
});

test('an export nobody restores, a restore of a prefix nobody exports, and an app without workflows: each said, with the reason', () => {
  const dir = outdir();
  const app = new App({ outdir: dir });
  const dr = new Stack(app, 'Dr', { env: { account: '111111111111', region: 'us-west-2' } });
  const main = new Stack(app, 'Main', { env: { account: '111111111111', region: 'eu-west-1' } });
  const isolated = { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] };
  const replica = new SnapshotReplicaBucket(dr, 'Replica');
  const group = new RedisReplicationGroup(main, 'Cache', { vpc: new ec2.Vpc(main, 'Vpc', isolated), nodeType: 'cache.r7g.large', replicationGroupId: 'orders' });
  new ScheduledSnapshotExport(main, 'Nightly', { replicationGroup: group, exportBucket: new SnapshotExportBucket(main, 'Exports', { replica }), snapshotPrefix: 'orders-a' });
  const vpc = new ec2.Vpc(dr, 'Vpc', isolated);
  new StandbyRestore(dr, 'Restore', {
    replicaBucket: replica, snapshotPrefix: 'orders-b', vpc, hostedZone: new route53.PrivateHostedZone(dr, 'Zone', { zoneName: 'corp.internal', vpc }), recordName: 'orders',
  });
  app.synth();
  const plan = planDrill(dir);
  expect(plan.pairs).toEqual([]);
  expect(plan.cannot).toEqual([
    expect.stringMatching(/^export workflow Main\/NightlyStateMachine\w+ \(prefix orders-a\): no StandbyRestore in us-west-2 restores its prefix/),
    expect.stringMatching(/^restore workflow Dr\/RestoreStateMachine\w+ \(prefix orders-b\): no ScheduledSnapshotExport in this app exports that prefix/),
  ]);

  const empty = outdir();
  const bare = new App({ outdir: empty });
  new Stack(bare, 'Bare');
  bare.synth();
  expect(planDrill(empty).cannot).toEqual([
    expect.stringMatching(/stack Bare has no explicit account and region/),
    expect.stringMatching(/declares no ScheduledSnapshotExport or StandbyRestore workflow/),
  ]);
});
