/**
 * The DR drill end to end (local/drill/run.ts, local/drill/command.ts): the real CDK CLI deploys the
 * app into a local provider, the deployed schedules export every simulated night while the group is
 * written to, the primary region goes down, the deployed StandbyRestore fails over, and the writes
 * are read back through the DNS name. The report's numbers are checked against the drill's own event
 * log; a second app (cluster mode enabled, 3 shards, its own prefix and keep) is drilled through the
 * command; a drill whose replica bucket was emptied fails at the restore and still writes its report.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { synthesizeExample } from '../../local/drill';
import { drillAndReport } from '../../local/drill/command';
import { eventsOf } from '../../local/drill/events';
import { measure, writeReport } from '../../local/drill/report';
import { runDrill } from '../../local/drill/run';
import { ClusterMode, RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, StandbyRestore } from '../../src';

jest.setTimeout(600_000);

const HOUR = 3_600_000;
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-'));
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('the example app: nightly exports, an outage, a failover; RPO, RTO and runs in the report follow from the event log', async () => {
  const assembly = path.join(work, 'example');
  synthesizeExample(assembly);
  const lines: string[] = [];
  const result = await runDrill({ app: assembly, days: 2, writesPerMinute: 30, datasetKeys: 5000, print: (l) => lines.push(l) });
  expect(result.failure).toBeUndefined();
  const log = result.log;

  // The CLI deployed the workflows, their schedules and the group for real.
  expect(result.deploy.realTypes).toEqual(expect.arrayContaining(['AWS::ElastiCache::ReplicationGroup', 'AWS::StepFunctions::StateMachine', 'AWS::Events::Rule', 'AWS::Lambda::Function']));
  expect(result.deploy.recordedTypes).toEqual(expect.arrayContaining(['AWS::EC2::VPC', 'AWS::IAM::Role']));

  // Two nights, two scheduled exports, each started at 02:30 UTC, then the failover.
  const started = eventsOf(log, 'run-started');
  const exportsRun = started.filter((r) => r.kind === 'export');
  expect(exportsRun).toHaveLength(2);
  for (const r of exportsRun) expect(new Date(r.at).toISOString()).toMatch(/T02:30:00\.000Z$/);
  const ended = eventsOf(log, 'run-ended');
  expect(ended.filter((r) => exportsRun.some((s) => s.runId === r.runId)).map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  for (const r of ended) {
    expect(r.stateTransitions).toBeGreaterThan(10);
    expect(r.lambda.invocations).toBeGreaterThan(0);
  }
  expect(started.filter((r) => r.kind === 'restore')).toHaveLength(1);
  expect(eventsOf(log, 'object-replicated').length).toBeGreaterThanOrEqual(2);

  // What the report says, computed from the log, against the log's own events.
  const m = measure(log);
  const writes = eventsOf(log, 'writes').reduce((n, w) => n + w.count, 0);
  const [readBack] = eventsOf(log, 'keys-read-back');
  const [outage] = eventsOf(log, 'outage-declared');
  const [inSync] = eventsOf(log, 'dns-in-sync');
  expect(m.writesAcknowledged).toBe(writes);
  expect(readBack.written).toBe(writes);
  expect(m.writesLost).toBe(writes - readBack.count);
  expect(m.rpoMs).toBe(outage.at - readBack.lastSurvivingWriteAt!);
  expect(m.rtoMs).toBe(inSync.at - outage.at);
  // Something was lost (the writes after the last export), not everything: the restore is the last
  // night's export, whose snapshot was taken at 02:30 and a few minutes more.
  expect(m.writesLost).toBeGreaterThan(0);
  expect(readBack.count).toBeGreaterThan(5000);
  const lastExport = exportsRun[exportsRun.length - 1].at;
  expect(readBack.lastSurvivingWriteAt!).toBeGreaterThanOrEqual(lastExport - 10 * 60_000);
  expect(readBack.lastSurvivingWriteAt!).toBeLessThan(lastExport + 2 * HOUR);
  expect(m.rtoMs!).toBeGreaterThan(0);

  const report = writeReport(path.join(work, 'example-report'), log);
  expect(report.lines[0]).toBe(`RPO: ${m.writesLost} of ${writes} acknowledged writes lost; last surviving write ${report.lines[0].split('last surviving write ')[1]}`);
  expect(fs.readFileSync(report.reportPath, 'utf-8')).toContain(`| Writes lost (RPO) | ${m.writesLost} |`);
  expect(fs.readFileSync(report.svgPath, 'utf-8')).toMatch(/^<svg/);
  expect(lines.filter((l) => /^Day \d/.test(l))).toHaveLength(2);
  expect(lines.join('\n')).toMatch(/Read back through orders\.corp\.internal -> master\.orders-standby-\d{6}-\d{6}\./);
});

/** A second app: cluster mode enabled with 3 shards, its own prefix, keep, zone and record. */
function clusterApp(outdir: string): void {
  const app = new App({
    outdir,
    context: {
      'availability-zones:account=000000000000:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      'availability-zones:account=000000000000:region=us-west-2': ['us-west-2a', 'us-west-2b', 'us-west-2c'],
    },
  });
  const env = (region: string) => ({ account: '000000000000', region });
  const recovery = new Stack(app, 'CatalogRecovery', { env: env('us-west-2') });
  const primary = new Stack(app, 'CatalogPrimary', { env: env('eu-west-1') });
  const isolated = { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] };
  const replica = new SnapshotReplicaBucket(recovery, 'Replica');
  const catalog = new RedisReplicationGroup(primary, 'Catalog', {
    vpc: new ec2.Vpc(primary, 'Vpc', isolated), nodeType: 'cache.r7g.large', replicationGroupId: 'catalog', clusterMode: ClusterMode.ENABLED, shards: 3, replicasPerShard: 1,
  });
  new ScheduledSnapshotExport(primary, 'Nightly', {
    replicationGroup: catalog,
    exportBucket: new SnapshotExportBucket(primary, 'Exports', { replica }),
    schedule: events.Schedule.cron({ hour: '1', minute: '15' }),
    snapshotPrefix: 'catalog-nightly',
    keep: 2,
    maxAge: Duration.days(10),
  });
  const vpc = new ec2.Vpc(recovery, 'Vpc', isolated);
  new StandbyRestore(recovery, 'Restore', {
    replicaBucket: replica,
    snapshotPrefix: 'catalog-nightly',
    vpc,
    hostedZone: new route53.PrivateHostedZone(recovery, 'Zone', { zoneName: 'shop.internal', vpc }),
    recordName: 'catalog',
    standbyIdPrefix: 'catalog-standby',
    // The group's clients authenticate (the library's default), so the standby needs a token too.
    authToken: new secretsmanager.Secret(recovery, 'StandbyToken', { generateSecretString: { passwordLength: 64, excludePunctuation: true } }),
  });
  app.synth();
}

test('a second app (cluster mode enabled, 3 shards, prefix catalog-nightly, keep 2) is drilled by the command and passes', async () => {
  const assembly = path.join(work, 'cluster');
  clusterApp(assembly);
  const lines: string[] = [];
  const reportDir = path.join(work, 'cluster-report');
  const { code, result } = await drillAndReport({ app: assembly, days: 3, writesPerMinute: 20, datasetKeys: 3000, reportDir }, (l) => lines.push(l));
  expect({ code, failure: result?.failure }).toEqual({ code: 0, failure: undefined });
  const text = lines.join('\n');
  expect(text).toMatch(/^RPO: \d+ of \d+ acknowledged writes lost/m);
  expect(text).toMatch(/^RTO: .+ from outage declared to DNS in sync/m);
  expect(text).toContain(`Report: ${path.join(reportDir, 'report.md')}`);
  expect(text).toContain('Drill passed');
  const log = result!.log;
  // keep 2: after three nights, the first export's objects were pruned from both buckets.
  expect(eventsOf(log, 'run-started').filter((r) => r.kind === 'export')).toHaveLength(3);
  expect(eventsOf(log, 'object-pruned').length).toBeGreaterThan(0);
  // Three shards: each export writes an RDB per shard.
  expect(eventsOf(log, 'object-written').filter((o) => o.key.endsWith('.rdb')).length % 3).toBe(0);
  expect(text).toMatch(/Read back through catalog\.shop\.internal -> clustercfg\.catalog-standby-/);
  expect(measure(log).keysReadBack).toBeGreaterThan(3000);
});

test('a drill whose replica bucket was emptied before the outage fails at the restore, says why, and still writes the report', async () => {
  const assembly = path.join(work, 'emptied');
  synthesizeExample(assembly);
  const lines: string[] = [];
  const reportDir = path.join(work, 'emptied-report');
  const { code, result } = await drillAndReport({
    app: assembly,
    days: 1,
    datasetKeys: 1000,
    reportDir,
    beforeOutage: async ({ provider, exportWorkflow }) => {
      const s3 = new S3Client({ region: exportWorkflow.description.replicaRegion, endpoint: provider.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
      try {
        const bucket = exportWorkflow.description.replicaBucket;
        // As someone emptying it from the console would: every object deleted (a delete marker on each).
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        const objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (objects.length === 0) throw new Error('the replica bucket holds no export to delete: the night\'s export did not replicate');
        for (const o of objects) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
      } finally {
        s3.destroy();
      }
    },
  }, (l) => lines.push(l));
  expect(code).toBe(1);
  expect(result!.failure).toMatch(/^restore: the StandbyRestore run drill-failover-\d+ FAILED in state FindExport: NoCompleteExport/);
  expect(lines.join('\n')).toMatch(/Drill failed at restore: .*NoCompleteExport/);
  expect(fs.existsSync(path.join(reportDir, 'report.md'))).toBe(true);
  expect(eventsOf(result!.log, 'restore-failed')).toHaveLength(1);
  expect(eventsOf(result!.log, 'keys-read-back')).toEqual([]);
});
