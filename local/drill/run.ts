/**
 * The DR drill on a synthesized app (issue 11): deploy it into the local provider with the real CDK
 * CLI, fill the primary group and keep writing to it, let the simulated days run (the deployed
 * EventBridge schedules start the export workflow each night; ElastiCache takes its automatic
 * snapshots), declare a regional outage in the primary region, start the deployed StandbyRestore
 * workflow in `failover` mode through the Step Functions API, and read every write back through
 * the DNS name; then measure RPO and RTO from what happened, not from constants.
 *
 * Everything the drill sees, it records in its event log (local/drill/log.ts), from which the
 * report is made: the numbers in the report are computed from that log alone.
 */
import * as dns from 'dns';
import { DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { deployAssembly, DeployReport } from './deploy';
import { DrillEvent, DrillLog } from './log';
import { DrillPair, DeployedWorkflow, planDrill, resolveWorkflow } from './plan';
import { readRun, RunSummary } from './runs';
import { Traffic, TrafficTarget } from './traffic';
import { LocalProvider } from '../provider';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface DrillOptions {
  /** The synthesized app (a cloud assembly directory). */
  readonly assemblyDir: string;
  /** Simulated days before the outage. @default 7 */
  readonly days?: number;
  /** Writes per simulated minute to the primary while the drill runs. @default 20 */
  readonly writesPerMinute?: number;
  /** Keys written before the days start (the dataset). @default 10000 */
  readonly datasetKeys?: number;
  /** Bytes per value. @default 256 */
  readonly valueBytes?: number;
  /** When the outage is declared, in simulated hours after the dataset is written. @default days * 24 + 9.5 (mid-morning after the last night) */
  readonly outageAfterHours?: number;
  /** Simulated milliseconds per real millisecond. @default 600 */
  readonly speed?: number;
  /** Progress lines. */
  readonly print?: (line: string) => void;
  /** Runs just before the outage (tests use it to break something, e.g. empty the replica bucket). */
  readonly beforeOutage?: (context: DrillContext) => Promise<void>;
}

/** What a `beforeOutage` hook may reach. */
export interface DrillContext {
  readonly provider: LocalProvider;
  readonly exportWorkflow: DeployedWorkflow;
  readonly restoreWorkflow: DeployedWorkflow;
}

export interface DrillResult {
  readonly log: DrillLog;
  readonly deploy: DeployReport;
  /** Why the drill failed (the step and the reason), if it did. */
  readonly failure?: string;
}

/** The drill's own error: a step that failed, and why. */
export class DrillFailure extends Error {
  constructor(public readonly step: string, reason: string) {
    super(`${step}: ${reason}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDrill(o: DrillOptions): Promise<DrillResult> {
  const print = o.print ?? (() => undefined);
  const days = o.days ?? 7;
  const writesPerMinute = o.writesPerMinute ?? 20;
  const datasetKeys = o.datasetKeys ?? 10_000;
  const valueBytes = o.valueBytes ?? 256;
  const outageAfterHours = o.outageAfterHours ?? days * 24 + 9.5;
  checkNumber('days', days, 1, 366, true);
  checkNumber('writesPerMinute', writesPerMinute, 0, 100_000, false);
  checkNumber('datasetKeys', datasetKeys, 0, 10_000_000, true);
  checkNumber('outageAfterHours', outageAfterHours, 0, 366 * 24, false);

  const plan = planDrill(o.assemblyDir);
  for (const reason of plan.cannot) print(`Not drilled: ${reason}`);
  if (plan.pairs.length === 0) throw new DrillFailure('plan', `nothing to drill in ${o.assemblyDir}`);
  const pair: DrillPair = plan.pairs[0];
  const primary = pair.exportWorkflow.region;
  const recovery = pair.restoreWorkflow.region;

  // The simulated clock starts at noon UTC today: the deployment and the dataset land before the night's schedules.
  const today = new Date();
  const startTime = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 12);
  const provider = await LocalProvider.start({ speed: o.speed ?? 600, startTime });
  const clock = provider.clock;
  const log = new DrillLog({ days, writesPerMinute, datasetKeys, valueBytes, primaryRegion: primary, recoveryRegion: recovery });
  const add = (e: DrillEvent) => log.add(e);
  const credentials = { accessKeyId: 'drill', secretAccessKey: 'drill' };
  const client = <T>(make: new (c: any) => T, region: string): T => new make({ region, endpoint: provider.endpoint, credentials, maxAttempts: 1 });
  const sfnA = client(SFNClient, primary);
  const sfnB = client(SFNClient, recovery);
  const ecA = client(ElastiCacheClient, primary);
  const s3 = client(S3Client, primary);
  let traffic: Traffic | undefined;
  let deploy: DeployReport | undefined;
  try {
    // ---- 1. deploy, as `cdk deploy` does -----------------------------------------------
    print(`Deploying ${plan.stacks.map((s) => `${s.name} (${s.region})`).join(', ')} into the local provider with the CDK CLI`);
    clock.tick(100);
    deploy = await deployAssembly(provider, o.assemblyDir, { print: (line) => print(`  ${line}`) });
    clock.stopTicking();
    const exportWf = resolveWorkflow(provider, pair.exportWorkflow);
    const restoreWf = resolveWorkflow(provider, pair.restoreWorkflow);
    const groupId: string = exportWf.description.replicationGroupId;
    print(`Drilling group ${groupId} (${primary}): export ${exportWf.stateMachineArn.split(':').pop()}, restore ${restoreWf.stateMachineArn.split(':').pop()} (${recovery})`);

    // ---- 2. the data, and the writes that keep coming -------------------------------------
    const group = (await ecA.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId }))).ReplicationGroups![0];
    const endpoint = group.ConfigurationEndpoint ?? group.NodeGroups![0].PrimaryEndpoint!;
    const token = (await provider.elasticache(primary).describeReplicationGroups(groupId))[0].authTokens[0];
    const target: TrafficTarget = {
      host: endpoint.Address!, port: endpoint.Port!, tls: !!group.TransitEncryptionEnabled, password: token, cluster: group.ClusterEnabled === true,
    };
    traffic = new Traffic(target, { writesPerMinute, valueBytes });
    const t0 = clock.now();
    await traffic.fill(datasetKeys, t0);
    add({ type: 'dataset', at: t0, keys: datasetKeys, valueBytes });
    print(`Wrote ${datasetKeys.toLocaleString('en-US')} keys of ${valueBytes} B to ${endpoint.Address}; now ${writesPerMinute} writes a simulated minute`);

    // ---- 3. the days ---------------------------------------------------------------------
    const outageAt = t0 + outageAfterHours * HOUR;
    const watcher = new RunWatcher(add, print);
    watcher.watch(sfnA, exportWf.stateMachineArn, 'export');
    watcher.watch(sfnB, restoreWf.stateMachineArn, 'rehearsal');
    const seenSnapshots = new Set<string>();
    let nextDay = t0 + DAY;
    let dayNumber = 1;
    while (clock.now() < outageAt) {
      const step = Math.min(10 * MINUTE, outageAt - clock.now());
      await clock.advance(step);
      await writeUntil(traffic, clock.now(), add);
      // Runs under way go on in (scaled) real time: the clock is not moved past them.
      while (await watcher.poll(clock.now()) > 0) {
        await sleep(50);
        await clock.advance(0);
        await writeUntil(traffic, clock.now(), add);
      }
      for (const s of (await ecA.send(new DescribeSnapshotsCommand({ ReplicationGroupId: groupId }))).Snapshots ?? []) {
        if (s.SnapshotStatus === 'available' && !seenSnapshots.has(s.SnapshotName!)) {
          seenSnapshots.add(s.SnapshotName!);
          add({ type: 'snapshot', at: s.NodeSnapshots?.[0]?.SnapshotCreateTime?.getTime() ?? clock.now(), name: s.SnapshotName!, source: s.SnapshotSource ?? 'unknown' });
        }
      }
      if (clock.now() >= nextDay) {
        const stored = await storedExports(client(S3Client, primary), client(S3Client, recovery), exportWf);
        add({ type: 'storage', at: clock.now(), exportBytes: stored.exportBytes, replicaBytes: stored.replicaBytes, exportObjects: stored.exportObjects, replicaObjects: stored.replicaObjects });
        const runs = log.runsBetween(nextDay - DAY, nextDay);
        print(`Day ${dayNumber} (${new Date(nextDay - DAY).toISOString().slice(0, 10)}): ${runs.length ? runs.map((r) => `${r.kind} ${r.status}`).join(', ') : 'no workflow run'}; `
          + `${stored.replicaObjects} export objects in the replica; ${traffic.written.toLocaleString('en-US')} writes so far`);
        nextDay += DAY;
        dayNumber++;
      }
    }

    // ---- 4. the outage -------------------------------------------------------------------
    await o.beforeOutage?.({ provider, exportWorkflow: exportWf, restoreWorkflow: restoreWf });
    traffic.close();
    await provider.regionalOutage(primary);
    const declared = clock.now();
    add({ type: 'outage', at: declared, region: primary });
    print(`Outage declared in ${primary} at ${new Date(declared).toISOString()}: its ElastiCache and S3 stop answering, its nodes are gone`);

    // ---- 5. the recovery -----------------------------------------------------------------
    const started = await sfnB.send(new StartExecutionCommand({
      stateMachineArn: restoreWf.stateMachineArn, name: `drill-failover-${declared}`, input: JSON.stringify({ mode: 'failover' }),
    }));
    watcher.watch(sfnB, restoreWf.stateMachineArn, 'failover', started.executionArn);
    const recordName: string = restoreWf.description.recordName.replace(/\.$/, '');
    const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([provider.dns.address]);
    const before = await cname(resolver, recordName);
    let inSyncAt: number | undefined;
    let run: RunSummary | undefined;
    for (;;) {
      await sleep(50);
      await clock.advance(0);
      const now = clock.now();
      const seen = await cname(resolver, recordName);
      if (inSyncAt === undefined && seen && seen !== before && seen.startsWith(restoreWf.description.standbyIdPrefix)) {
        inSyncAt = now;
        add({ type: 'dns', at: now, record: recordName, target: seen });
      }
      await watcher.poll(now);
      run = watcher.run(started.executionArn!);
      if (run && run.status !== 'RUNNING') break;
    }
    if (run.status !== 'SUCCEEDED') {
      throw new DrillFailure('restore', `the StandbyRestore run ${run.name} ${run.status} in state ${run.failedState ?? '?'}: ${run.error ?? ''} ${run.cause ?? ''}`.trim());
    }
    if (inSyncAt === undefined) throw new DrillFailure('cutover', `the restore succeeded but ${recordName} does not resolve to the standby`);

    // ---- 6. what came back ----------------------------------------------------------------
    const standbyName = await cname(resolver, recordName);
    const standbyId = run.output?.standby as string | undefined;
    if (!standbyId) throw new DrillFailure('read back', `the restore run's output names no standby: ${JSON.stringify(run.output)}`);
    const ecB = client(ElastiCacheClient, recovery);
    let standby;
    try {
      standby = (await ecB.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: standbyId }))).ReplicationGroups![0];
    } finally {
      ecB.destroy();
    }
    const standbyPort = (standby.ConfigurationEndpoint ?? standby.NodeGroups![0].PrimaryEndpoint!).Port!;
    // The application's token in the recovery region (the StandbyRestore's authToken secret, which the standby was created with).
    const standbyToken = standby.AuthTokenEnabled
      ? (await provider.elasticache(recovery).describeReplicationGroups(standbyId))[0].authTokens[0] : undefined;
    const back = await traffic.readBack({
      host: standbyName!,
      port: standbyPort,
      tls: !!standby.TransitEncryptionEnabled,
      password: standbyToken,
      cluster: standby.ClusterEnabled === true,
    });
    add({
      type: 'readBack', at: clock.now(), written: back.written, survived: back.survived, lastWriteAt: back.lastWriteAt, lastSurvivingWriteAt: back.lastSurvivingWriteAt,
    });
    print(`Read back through ${recordName} -> ${standbyName}: ${back.survived.toLocaleString('en-US')} of ${back.written.toLocaleString('en-US')} writes`);
    return { log, deploy };
  } catch (e) {
    const failure = e instanceof DrillFailure ? e.message : `drill: ${(e as Error).message}`;
    add({ type: 'failure', at: clock.now(), reason: failure });
    return { log, deploy: deploy ?? { phases: [], real: [], recorded: [] }, failure };
  } finally {
    traffic?.close();
    for (const c of [sfnA, sfnB, ecA, s3]) c.destroy();
    await provider.stop();
  }
}

function checkNumber(name: string, value: number, min: number, max: number, integer: boolean): void {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new DrillFailure('options', `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${value}`);
  }
}

async function writeUntil(traffic: Traffic, now: number, add: (e: DrillEvent) => void): Promise<void> {
  const n = await traffic.writeUntil(now);
  if (n > 0) add({ type: 'writes', at: now, count: n, total: traffic.written });
}

async function cname(resolver: dns.promises.Resolver, name: string): Promise<string | undefined> {
  try {
    return (await resolver.resolveCname(name))[0];
  } catch {
    return undefined;
  }
}

/** Bytes and objects under the workflow's prefix in its export bucket and in the replica. */
async function storedExports(s3A: S3Client, s3B: S3Client, wf: DeployedWorkflow) {
  const sum = async (s3: S3Client, bucket: string) => {
    let bytes = 0;
    let objects = 0;
    let token: string | undefined;
    try {
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: wf.description.snapshotPrefix, ContinuationToken: token }));
        for (const obj of page.Contents ?? []) {
          bytes += obj.Size ?? 0;
          objects++;
        }
        token = page.NextContinuationToken;
      } while (token);
    } finally {
      s3.destroy();
    }
    return { bytes, objects };
  };
  const a = await sum(s3A, wf.description.exportBucket);
  const b = await sum(s3B, wf.description.replicaBucket);
  return { exportBytes: a.bytes, exportObjects: a.objects, replicaBytes: b.bytes, replicaObjects: b.objects };
}

/** Follows the runs of the drilled state machines through ListExecutions, and records each when it ends. */
class RunWatcher {
  private readonly machines: Array<{ sfn: SFNClient; arn: string; kind: string }> = [];
  private readonly kinds = new Map<string, string>();
  private readonly done = new Map<string, RunSummary>();
  private readonly running = new Set<string>();

  constructor(private readonly add: (e: DrillEvent) => void, private readonly print: (line: string) => void) {}

  /** Watches a state machine's runs (of `kind`), or names the kind of one run. */
  public watch(sfn: SFNClient, arn: string, kind: string, executionArn?: string): void {
    if (executionArn) {
      this.kinds.set(executionArn, kind);
      return;
    }
    if (!this.machines.some((m) => m.arn === arn)) this.machines.push({ sfn, arn, kind });
  }

  public run(executionArn: string): RunSummary | undefined {
    return this.done.get(executionArn) ?? (this.running.has(executionArn) ? { status: 'RUNNING' } as RunSummary : undefined);
  }

  /** Records runs that ended since the last poll; answers how many are still running. */
  public async poll(now: number): Promise<number> {
    let running = 0;
    for (const m of this.machines) {
      const list = await m.sfn.send(new ListExecutionsCommand({ stateMachineArn: m.arn, maxResults: 1000 }));
      for (const e of list.executions ?? []) {
        const arn = e.executionArn!;
        if (this.done.has(arn)) continue;
        if (e.status === 'RUNNING') {
          if (!this.running.has(arn)) {
            this.running.add(arn);
            this.add({ type: 'runStarted', at: e.startDate!.getTime(), executionArn: arn, kind: this.kinds.get(arn) ?? m.kind });
          }
          running++;
          continue;
        }
        const run = await readRun(m.sfn, arn);
        this.running.delete(arn);
        this.done.set(arn, run);
        const kind = this.kinds.get(arn) ?? m.kind;
        if (!this.kinds.has(arn)) this.kinds.set(arn, kind);
        this.add({ type: 'runEnded', at: run.stoppedAt ?? now, kind, run });
        const minutes = run.stoppedAt ? Math.round((run.stoppedAt - run.startedAt) / MINUTE) : 0;
        this.print(`  ${kind} run ${run.name}: ${run.status} in ${minutes} simulated min, ${run.transitions} state transitions, ${run.lambdaInvocations} Lambda invocations`
          + (run.error ? ` (${run.error} in ${run.failedState})` : ''));
      }
    }
    return running;
  }
}
