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
import * as fs from 'fs';
import { DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DrillEvent, DrillLog, RunKind, RunStatus } from './events';
import { DrillPair, DrillPlan, DeployedWorkflow, planDrill, resolveWorkflow } from './plan';
import { readRun, RunSummary } from './runs';
import { keyOf, Traffic, TrafficTarget } from './traffic';
import { IntegDeployment, IntegDeployReport } from '../integ-deploy';
import { LocalProvider } from '../provider';
import { LOCAL_ACCOUNT } from '../sts';
import { localCa } from '../tls';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface DrillOptions {
  /** The app: a cloud assembly directory (cdk.out), or an app command the CDK CLI synthesizes (`npx ts-node app.ts`). */
  readonly app: string;
  /** The folder an app command runs in. @default the current one */
  readonly appDir?: string;
  /** Simulated days before the outage. @default 7 */
  readonly days?: number;
  /** Writes per simulated minute to the primary while the drill runs. @default 20 */
  readonly writesPerMinute?: number;
  /** Keys written before the days start (the dataset). @default 10000 */
  readonly datasetKeys?: number;
  /** Bytes per value. @default 256 */
  readonly valueBytes?: number;
  /** When the outage is declared, in simulated hours after the dataset is written. @default days * 24 (the time of day the days started, `days` later) */
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
  /** Wall time of the CLI's phases (synth, bootstrap, deploy), and the resource types deployed for real and recorded only. */
  readonly deploy: IntegDeployReport;
  /** The plan: what was drilled, and what could not be, with why. */
  readonly plan?: DrillPlan;
  /** Why the drill failed (the step and the reason), if it did. */
  readonly failure?: string;
}

/** The drill's own error: a step that failed, and why. */
export class DrillFailure extends Error {
  constructor(public readonly step: string, public readonly reason: string) {
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
  const outageAfterHours = o.outageAfterHours ?? days * 24;
  checkNumber('days', days, 1, 366, true);
  checkNumber('writesPerMinute', writesPerMinute, 0, 100_000, false);
  checkNumber('datasetKeys', datasetKeys, 0, 10_000_000, true);
  checkNumber('valueBytes', valueBytes, 1, 1024 * 1024, true);
  checkNumber('outageAfterHours', outageAfterHours, 0, 366 * 24, false);

  // The simulated clock starts at noon UTC today: the deployment and the dataset land before the night's schedules.
  const today = new Date();
  const startTime = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 12);
  const speed = o.speed ?? 600;
  const provider = await LocalProvider.start({ speed, startTime });
  const clock = provider.clock;
  // The provider's clock runs on while the CLI works (its resources take simulated minutes to create).
  clock.tick(100);
  const deployment = new IntegDeployment({ env: provider.env(), app: o.app, appDir: o.appDir, log: (line) => print(`  ${line}`) });
  let plan: DrillPlan;
  let pair: DrillPair;
  try {
    plan = planDrill(await deployment.synth());
    for (const reason of plan.cannot) print(`Not drilled: ${reason}`);
    if (plan.pairs.length === 0) throw new DrillFailure('plan', `nothing to drill in ${o.app}`);
    const foreign = plan.stacks.filter((s) => s.account !== LOCAL_ACCOUNT);
    if (foreign.length > 0) {
      throw new DrillFailure('plan', `${foreign.map((s) => `${s.name} is for account ${s.account}`).join(', ')}; the local provider has one account, `
        + `${LOCAL_ACCOUNT}: synthesize the app for it (env: { account: '${LOCAL_ACCOUNT}', region })`);
    }
    pair = plan.pairs[0];
  } catch (e) {
    deployment.cleanup();
    await provider.stop();
    throw e;
  }
  const primary = pair.exportWorkflow.region;
  const recovery = pair.restoreWorkflow.region;
  const events: DrillEvent[] = [];
  const add = (e: DrillEvent) => events.push(e);
  const credentials = { accessKeyId: 'drill', secretAccessKey: 'drill' };
  const made: Array<{ destroy(): void }> = [];
  const client = <T extends { destroy(): void }>(make: new (c: any) => T, region: string): T => {
    // Path-style S3 (the provider's endpoint is an address); no SDK retries: a fault shows at once.
    const c = new make({ region, endpoint: provider.endpoint, credentials, maxAttempts: 1, forcePathStyle: true });
    made.push(c);
    return c;
  };
  const sfnA = client(SFNClient, primary);
  const sfnB = client(SFNClient, recovery);
  const ecA = client(ElastiCacheClient, primary);
  const ecB = client(ElastiCacheClient, recovery);
  let traffic: Traffic | undefined;
  let step = 'deploy';
  let failure: string | undefined;
  try {
    // ---- 1. deploy, as `cdk deploy` does -----------------------------------------------
    print(`Deploying ${plan.stacks.map((s) => `${s.name} (${s.region})`).join(', ')} into the local provider with the AWS CDK CLI`);
    await deployment.bootstrap();
    await deployment.deploy();
    clock.stopTicking();
    const types = deployment.report();
    print(`  deployed for real: ${types.realTypes.join(', ')}`);
    print(`  recorded only: ${types.recordedTypes.join(', ')}`);
    const exportWf = resolveWorkflow(provider, pair.exportWorkflow);
    const restoreWf = resolveWorkflow(provider, pair.restoreWorkflow);
    const groupId: string = exportWf.description.replicationGroupId;
    print(`Drilling group ${groupId} (${primary}): export workflow ${exportWf.stateMachineArn.split(':').pop()}, `
      + `restore workflow ${restoreWf.stateMachineArn.split(':').pop()} (${recovery})`);

    // ---- 2. the data, and the writes that keep coming -------------------------------------
    step = 'write';
    const group = (await ecA.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId }))).ReplicationGroups![0];
    const endpoint = group.ConfigurationEndpoint ?? group.NodeGroups![0].PrimaryEndpoint!;
    // The application's AUTH token (it reads it from its secret; the drill asks the group it was set on).
    const token = group.AuthTokenEnabled ? (await provider.elasticache(primary).describeReplicationGroups(groupId))[0].authTokens[0] : undefined;
    // The nodes' certificates are the local CA's: trusted explicitly (`npx cdk-elasticache-backup drill` has no NODE_EXTRA_CA_CERTS).
    const ca = fs.readFileSync(localCa().caFile, 'utf-8');
    const target: TrafficTarget = {
      host: endpoint.Address!,
      port: endpoint.Port!,
      tls: !!group.TransitEncryptionEnabled,
      ca,
      password: token,
      cluster: group.ClusterEnabled === true,
    };
    traffic = new Traffic(target, { writesPerMinute, valueBytes });
    const t0 = clock.now();
    await traffic.fill(datasetKeys, t0);
    if (datasetKeys > 0) add({ at: t0, type: 'writes', count: datasetKeys, lastKey: keyOf(datasetKeys - 1), lastAckAt: t0 });
    print(`Wrote ${datasetKeys.toLocaleString('en-US')} keys of ${valueBytes} B to ${endpoint.Address}; then ${writesPerMinute} writes a simulated minute`);

    // ---- 3. the days ---------------------------------------------------------------------
    step = 'days';
    const outageAt = t0 + outageAfterHours * HOUR;
    const watcher = new RunWatcher(add, print, speed);
    await watcher.watch(sfnA, client(LambdaClient, primary), exportWf.stateMachineArn, 'export');
    await watcher.watch(sfnB, client(LambdaClient, recovery), restoreWf.stateMachineArn, 'rehearsal');
    const objects = new ObjectWatcher(add, exportWf, client(S3Client, primary), client(S3Client, recovery));
    const snapshots = new SnapshotWatcher(add, ecA, provider, primary, groupId);
    let dayStart = t0;
    let dayNumber = 1;
    while (clock.now() < outageAt) {
      await clock.advance(Math.min(10 * MINUTE, outageAt - clock.now()));
      await writeUntil(traffic, clock.now(), add);
      // Runs under way go on in (scaled) real time: the clock is not moved past them.
      let ended = await watcher.poll(clock.now());
      while (watcher.running > 0) {
        await sleep(50);
        await clock.advance(0);
        await writeUntil(traffic, clock.now(), add);
        ended += await watcher.poll(clock.now());
      }
      await snapshots.poll(clock.now());
      if (ended > 0) await objects.poll(clock.now(), true);
      if (clock.now() >= dayStart + DAY) {
        await objects.poll(clock.now(), true);
        const runs = watcher.endedBetween(dayStart, dayStart + DAY);
        print(`Day ${dayNumber} (${new Date(dayStart).toISOString().slice(0, 10)}): `
          + `${runs.length ? runs.map((r) => `${r.kind} ${r.status}`).join(', ') : 'no workflow run'}; `
          + `${snapshots.count} snapshots held; ${objects.replicaObjects} export objects in the replica; ${traffic.written.toLocaleString('en-US')} writes so far`);
        dayStart += DAY;
        dayNumber++;
      }
    }

    // ---- 4. the outage -------------------------------------------------------------------
    step = 'outage';
    await o.beforeOutage?.({ provider, exportWorkflow: exportWf, restoreWorkflow: restoreWf });
    await objects.poll(clock.now(), true);
    traffic.close();
    await provider.regionalOutage(primary);
    const declared = clock.now();
    add({ at: declared, type: 'outage-declared', region: primary });
    print(`Outage declared in ${primary} at ${new Date(declared).toISOString()}: its ElastiCache and S3 stop answering, its nodes are gone`);

    // ---- 5. the recovery -----------------------------------------------------------------
    step = 'restore';
    const started = await sfnB.send(new StartExecutionCommand({
      stateMachineArn: restoreWf.stateMachineArn, name: `drill-failover-${declared}`, input: JSON.stringify({ mode: 'failover' }),
    }));
    watcher.kindOf(started.executionArn!, 'restore');
    add({ at: clock.now(), type: 'restore-started', group: groupId });
    print(`Started ${restoreWf.stateMachineArn.split(':').pop()} in failover mode (${recovery})`);
    const recordName: string = restoreWf.description.recordName.replace(/\.$/, '');
    const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([provider.dns.address]);
    const before = await cname(resolver, recordName);
    // An endpoint name of a standby group (`<group>.<id>...`, or `master.<group>.<id>...` with TLS).
    const prefix = String(restoreWf.description.standbyIdPrefix).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const standbyName = new RegExp(`(^|\\.)${prefix}-[^.]+\\.`);
    let inSync = false;
    let run: RunSummary | undefined;
    while (!run) {
      await sleep(50);
      await clock.advance(0);
      const seen = await cname(resolver, recordName);
      // The name is in sync when the provider's DNS server (Route 53's view) answers the standby.
      if (!inSync && seen && seen !== before && standbyName.test(seen)) {
        inSync = true;
        add({ at: clock.now(), type: 'dns-in-sync', name: recordName });
        print(`  ${recordName} now resolves to ${seen}`);
      }
      await watcher.poll(clock.now());
      run = watcher.ended(started.executionArn!);
    }
    await objects.poll(clock.now(), false);
    if (run.status !== 'SUCCEEDED') {
      const cause = `the StandbyRestore run ${run.name} ${run.status} in state ${run.failedState ?? '?'}: ${run.error ?? ''} ${briefCause(run.cause)}`.trim();
      add({ at: clock.now(), type: 'restore-failed', group: groupId, cause });
      throw new DrillFailure('restore', cause);
    }
    add({ at: clock.now(), type: 'restore-succeeded', group: groupId });
    if (!inSync) throw new DrillFailure('cutover', `the restore succeeded but ${recordName} does not resolve to a standby named ${restoreWf.description.standbyIdPrefix}-*`);

    // ---- 6. what came back ----------------------------------------------------------------
    step = 'read back';
    const standbyHost = (await cname(resolver, recordName))!;
    const standbyId = run.output?.standby as string | undefined;
    if (!standbyId) throw new DrillFailure('read back', `the restore run's output names no standby: ${JSON.stringify(run.output)}`);
    const standby = (await ecB.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: standbyId }))).ReplicationGroups![0];
    const standbyPort = (standby.ConfigurationEndpoint ?? standby.NodeGroups![0].PrimaryEndpoint!).Port!;
    // The application's token in the recovery region: the StandbyRestore's authToken secret, which the standby was created with.
    const standbyToken = standby.AuthTokenEnabled
      ? (await provider.elasticache(recovery).describeReplicationGroups(standbyId))[0].authTokens[0] : undefined;
    const back = await traffic.readBack({
      host: standbyHost,
      port: standbyPort,
      tls: !!standby.TransitEncryptionEnabled,
      ca,
      password: standbyToken,
      cluster: standby.ClusterEnabled === true,
    });
    add({ at: clock.now(), type: 'keys-read-back', count: back.survived, written: back.written, lastSurvivingWriteAt: back.lastSurvivingWriteAt });
    print(`Read back through ${recordName} -> ${standbyHost}: ${back.survived.toLocaleString('en-US')} of ${back.written.toLocaleString('en-US')} writes`);
  } catch (e) {
    const f = e instanceof DrillFailure ? e : new DrillFailure(step, (e as Error).message);
    failure = f.message;
    add({ at: clock.now(), type: 'drill-failed', step: f.step, reason: f.reason });
  } finally {
    traffic?.close();
    clock.stopTicking();
  }
  const endedAt = clock.now() + 1;
  try {
    for (const c of made) c.destroy();
    deployment.cleanup();
  } finally {
    await provider.stop();
  }
  // In time order (a run is recorded when seen to end, with the time it started).
  const sorted = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.at - b.e.at || a.i - b.i).map(({ e }) => e);
  return { log: { startedAt: Math.min(startTime, ...sorted.map((e) => e.at)), endedAt, events: sorted }, deploy: deployment.report(), plan, failure };
}

/** The first line of a run's cause (a Lambda error's message, without its stack). */
function briefCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause);
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON
  }
  return cause.split('\n')[0];
}

function checkNumber(name: string, value: number, min: number, max: number, integer: boolean): void {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new DrillFailure('options', `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${value}`);
  }
}

async function writeUntil(traffic: Traffic, now: number, add: (e: DrillEvent) => void): Promise<void> {
  const n = await traffic.writeUntil(now);
  if (n > 0) add({ at: now, type: 'writes', count: n, lastKey: keyOf(traffic.written - 1), lastAckAt: traffic.lastWriteAt! });
}

async function cname(resolver: dns.promises.Resolver, name: string): Promise<string | undefined> {
  try {
    return (await resolver.resolveCname(name))[0];
  } catch {
    return undefined;
  }
}

/** The export prefix's objects in the export bucket and in the replica, as written, replicated and pruned. */
class ObjectWatcher {
  private readonly seen = new Map<string, number>();
  public replicaObjects = 0;

  constructor(private readonly add: (e: DrillEvent) => void, private readonly wf: DeployedWorkflow,
    private readonly s3A: S3Client, private readonly s3B: S3Client) {}

  /** Lists both buckets (only the replica when `primaryToo` is false: the primary region is down). */
  public async poll(now: number, primaryToo: boolean): Promise<void> {
    const d = this.wf.description;
    const sources: Array<[S3Client, string, string, boolean]> = [[this.s3B, d.replicaRegion, d.replicaBucket, true]];
    if (primaryToo) sources.unshift([this.s3A, this.wf.region, d.exportBucket, false]);
    for (const [s3, region, bucket, replica] of sources) {
      const now_ = new Map<string, number>();
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: d.snapshotPrefix, ContinuationToken: token }));
        for (const obj of page.Contents ?? []) now_.set(obj.Key!, obj.Size ?? 0);
        token = page.NextContinuationToken;
      } while (token);
      for (const [key, bytes] of now_) {
        const id = `${region}/${bucket}/${key}`;
        if (this.seen.get(id) === bytes) continue;
        this.seen.set(id, bytes);
        this.add(replica
          ? { at: now, type: 'object-replicated', fromRegion: this.wf.region, region, bucket, key, bytes }
          : { at: now, type: 'object-written', region, bucket, key, bytes });
      }
      for (const id of [...this.seen.keys()].filter((k) => k.startsWith(`${region}/${bucket}/`))) {
        const key = id.slice(`${region}/${bucket}/`.length);
        if (!now_.has(key)) {
          this.seen.delete(id);
          this.add({ at: now, type: 'object-pruned', region, bucket, key });
        }
      }
      if (replica) this.replicaObjects = now_.size;
    }
  }
}

/** The group's snapshots as they become available and go, with their size on disk. */
class SnapshotWatcher {
  private readonly held = new Set<string>();

  constructor(private readonly add: (e: DrillEvent) => void, private readonly ec: ElastiCacheClient, private readonly provider: LocalProvider,
    private readonly region: string, private readonly groupId: string) {}

  public get count(): number {
    return this.held.size;
  }

  public async poll(now: number): Promise<void> {
    const available = new Map<string, { source: string; at: number }>();
    let marker: string | undefined;
    do {
      const page = await this.ec.send(new DescribeSnapshotsCommand({ ReplicationGroupId: this.groupId, Marker: marker }));
      for (const s of page.Snapshots ?? []) {
        if (s.SnapshotStatus === 'available') available.set(s.SnapshotName!, { source: s.SnapshotSource ?? 'manual', at: s.NodeSnapshots?.[0]?.SnapshotCreateTime?.getTime() ?? now });
      }
      marker = page.Marker;
    } while (marker);
    for (const [name, s] of available) {
      if (this.held.has(name)) continue;
      this.held.add(name);
      const bytes = this.provider.elasticache(this.region).snapshotFiles(name).reduce((n, f) => n + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);
      this.add({ at: Math.min(s.at, now), type: 'snapshot-taken', kind: s.source === 'automated' ? 'automatic' : 'manual', group: this.groupId, name, bytes });
    }
    for (const name of [...this.held].filter((n) => !available.has(n))) {
      this.held.delete(name);
      this.add({ at: now, type: 'snapshot-deleted', name });
    }
  }
}

/** Follows the runs of the drilled state machines through ListExecutions, and records each when it ends. */
class RunWatcher {
  private readonly machines: Array<{ sfn: SFNClient; arn: string; kind: RunKind; memoryMb: number }> = [];
  private readonly kinds = new Map<string, RunKind>();
  private readonly done = new Map<string, RunSummary & { kind: RunKind }>();
  private readonly started = new Set<string>();
  /** Runs seen running at the last poll. */
  public running = 0;

  constructor(private readonly add: (e: DrillEvent) => void, private readonly print: (line: string) => void, private readonly speed: number) {}

  /** Watches a state machine's runs, of `kind` unless told otherwise (`kindOf`). */
  public async watch(sfn: SFNClient, lambda: LambdaClient, arn: string, kind: RunKind): Promise<void> {
    this.machines.push({ sfn, arn, kind, memoryMb: await lambdaMemory(sfn, lambda, arn) });
  }

  public kindOf(executionArn: string, kind: RunKind): void {
    this.kinds.set(executionArn, kind);
  }

  public ended(executionArn: string): RunSummary | undefined {
    return this.done.get(executionArn);
  }

  public endedBetween(from: number, to: number): Array<{ kind: RunKind; status: string }> {
    return [...this.done.values()].filter((r) => r.stoppedAt !== undefined && r.stoppedAt >= from && r.stoppedAt < to);
  }

  /** Records runs that started or ended since the last poll; answers how many ended. */
  public async poll(now: number): Promise<number> {
    let running = 0;
    let ended = 0;
    for (const m of this.machines) {
      const list = await m.sfn.send(new ListExecutionsCommand({ stateMachineArn: m.arn, maxResults: 1000 }));
      for (const e of list.executions ?? []) {
        const arn = e.executionArn!;
        if (this.done.has(arn)) continue;
        const kind = this.kinds.get(arn) ?? m.kind;
        if (!this.started.has(arn)) {
          this.started.add(arn);
          this.add({ at: e.startDate!.getTime(), type: 'run-started', runId: arn, stateMachine: m.arn.split(':').pop()!, kind });
        }
        if (e.status === 'RUNNING') {
          running++;
          continue;
        }
        const run = await readRun(m.sfn, arn, this.speed);
        this.done.set(arn, { ...run, kind });
        ended++;
        this.add({
          at: run.stoppedAt ?? now,
          type: 'run-ended',
          runId: arn,
          status: run.status as RunStatus,
          stateTransitions: run.transitions,
          lambda: { invocations: run.lambdaInvocations, durationMs: run.lambdaDurationMs, memoryMb: m.memoryMb },
          error: run.error,
          cause: briefCause(run.cause) || undefined,
        });
        const minutes = run.stoppedAt ? Math.round((run.stoppedAt - run.startedAt) / MINUTE) : 0;
        this.print(`  ${kind} run ${run.name}: ${run.status} after ${minutes} simulated min, ${run.transitions} state transitions, `
          + `${run.lambdaInvocations} Lambda invocations${run.error ? ` (${run.error} in ${run.failedState})` : ''}`);
      }
    }
    this.running = running;
    return ended;
  }
}

/** The memory of the Lambda functions a state machine invokes (the largest; 128 MB, Lambda's default, when none says). */
async function lambdaMemory(sfn: SFNClient, lambda: LambdaClient, arn: string): Promise<number> {
  const { definition } = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
  const functions = new Set<string>();
  JSON.parse(definition ?? '{}', (key, value) => {
    if (key === 'FunctionName' && typeof value === 'string') functions.add(value);
    return value;
  });
  let memory = 0;
  for (const fn of functions) {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn })).catch(() => undefined);
    memory = Math.max(memory, config?.MemorySize ?? 0);
  }
  return memory || 128;
}
