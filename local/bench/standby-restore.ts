/**
 * Benchmark (not a test): a disaster-recovery restore of about BENCH_GIB GiB (default 1) through the
 * library's workflows, on the local provider, with the constructs' default waits and bounds.
 *
 * The app is the one test/local/standby-restore.test.ts synthesizes: a replication group with
 * `ScheduledSnapshotExport` in eu-west-1, `SnapshotReplicaBucket`, a private hosted zone and
 * `StandbyRestore` in us-west-2 (`transitEncryption: false` only because the local nodes speak no
 * TLS). Both stacks are deployed into the local provider; the primary is filled with 1 MiB values
 * of incompressible data (pipelined); the export workflow runs once, then `StandbyRestore` in
 * `failover` mode, then in `rehearsal` mode. The state machines are the synthesized ones, their
 * Lambda tasks the bundled handlers (assets/, built by bundle:lambda), called in-process.
 *
 * It prints the simulated durations (the provider's clock; the local provider's rates per GiB are
 * assumptions, see local/elasticache/model.ts), RPO and RTO as the restore workflow reports them,
 * state transitions and Lambda invocations per run, real time, and what a weekly rehearsal costs
 * at list prices. Run: `npx projen bench:restore` (BENCH_GIB=1, BENCH_SPEED=10).
 *
 * BENCH_SPEED is simulated ms per real ms. The real work here (saving, copying, loading a GiB) runs
 * while the simulated time of the operation passes; at 10 it stays well inside the simulated times,
 * so they are the model's. At much higher speeds the real work outlasts them, and the printed
 * times grow (the "model" column says what they would be).
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import Redis from 'ioredis';
import { RedisAuthentication, RedisReplicationGroup, ScheduledSnapshotExport, SnapshotExportBucket, SnapshotReplicaBucket, StandbyRestore } from '../../src';
import { deployStack, Deployment } from '../deploy';
import { DEFAULT_TIMINGS, GIB } from '../elasticache/model';
import { redisProcessesIn } from '../orphans';
import { LocalProvider } from '../provider';
import { LambdaHandlers, runStateMachine, StateMachineRun } from '../sfn';

const SIZE_GIB = Number(process.env.BENCH_GIB ?? 1);
const SPEED = Number(process.env.BENCH_SPEED ?? 10);
const A = 'eu-west-1';
const B = 'us-west-2';
const ACCOUNT = '000000000000';
const VALUE_BYTES = 1024 * 1024;
const REPLICATION_PER_GIB = 30_000; // the provider's default (local/provider.ts), for the "model" column

// List prices, US East (N. Virginia), without free tiers:
// - Step Functions Standard workflows: $0.025 per 1,000 state transitions (AWS Step Functions pricing);
// - Lambda (x86): $0.20 per 1M requests and $0.0000166667 per GB-second ("How AWS Pricing Works",
//   Lambda; AWS Lambda pricing, first 6 billion GB-seconds a month).
const PRICE = { transition: 0.025 / 1000, request: 0.2 / 1e6, gbSecond: 0.0000166667, region: 'US East (N. Virginia)' };
/** A weekly schedule runs 52 times a year. */
const RUNS_PER_MONTH = 52 / 12;

const ROOT = path.join(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundle = (name: string) => require(path.join(ROOT, 'assets', name, 'index.js'));

function synth(): { main: any; dr: any } {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: B } });
  const mainStack = new Stack(app, 'Main', { env: { account: ACCOUNT, region: A } });
  const isolated = (scope: Stack) => new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  // cache.r7g.xlarge: 26.32 GiB of memory, room for the GiB and its save.
  // No AUTH token: the standby could not have one locally (no Secrets Manager yet), and a source with
  // one is refused a standby without (StandbyAuthMismatch).
  const group = new RedisReplicationGroup(mainStack, 'Orders', {
    vpc: isolated(mainStack), nodeType: 'cache.r7g.xlarge', replicationGroupId: 'orders', authentication: RedisAuthentication.none(),
  });
  const replica = new SnapshotReplicaBucket(dr, 'Replica');
  const exportBucket = new SnapshotExportBucket(mainStack, 'Exports', { replica });
  new ScheduledSnapshotExport(mainStack, 'Nightly', { replicationGroup: group, exportBucket, snapshotPrefix: 'orders-x' });
  const drVpc = isolated(dr);
  new StandbyRestore(dr, 'Restore', {
    replicaBucket: replica,
    snapshotPrefix: 'orders-x',
    vpc: drVpc,
    hostedZone: new route53.PrivateHostedZone(dr, 'Zone', { zoneName: 'corp.internal', vpc: drVpc }),
    recordName: 'orders',
    standbyIdPrefix: 'orders-standby',
    // waits, bounds and timeout: the construct's defaults.
  });
  const asm = app.synth();
  return { main: asm.getStackByName('Main').template, dr: asm.getStackByName('Dr').template };
}

function logicalIdOf(template: any, type: string, prefix: string): string {
  const ids = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === type && id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.length}`);
  return ids[0];
}

/** Lambda handlers that record each invocation's real duration, by handler name. */
class TimedLambdas {
  public readonly durations = new Map<string, number[]>();
  public wrap(handlers: LambdaHandlers): LambdaHandlers {
    return Object.fromEntries(Object.entries(handlers).map(([name, fn]) => [name, async (event: any) => {
      const start = process.hrtime.bigint();
      try {
        return await fn(event);
      } finally {
        const list = this.durations.get(name) ?? [];
        list.push(Number(process.hrtime.bigint() - start) / 1e6);
        this.durations.set(name, list);
      }
    }]));
  }
}

/** Memory (MB) of the functions of a template, by handler name (Lambda's default 128 MB when unset). */
function memoryByHandler(template: any): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of Object.values<any>(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function' && r.Properties.Handler) {
      const arch = r.Properties.Architectures?.[0] ?? 'x86_64';
      if (arch !== 'x86_64') throw new Error(`the prices here are x86 prices; ${r.Properties.Handler} runs on ${arch}`);
      out.set(r.Properties.Handler, r.Properties.MemorySize ?? 128);
    }
  }
  return out;
}

interface RunReport {
  readonly name: string;
  readonly run: StateMachineRun;
  readonly realMs: number;
  readonly gbSeconds: number;
  readonly lambdaMs: number;
}

async function timedRun(name: string, memory: Map<string, number>, work: (lambdas: TimedLambdas) => Promise<StateMachineRun>): Promise<RunReport> {
  const lambdas = new TimedLambdas();
  const start = Date.now();
  const run = await work(lambdas);
  const realMs = Date.now() - start;
  if (run.status !== 'SUCCEEDED') throw new Error(`${name} ended ${run.status}: ${run.error} ${run.cause}`);
  let gbSeconds = 0;
  let lambdaMs = 0;
  for (const [handler, list] of lambdas.durations) {
    // Lambda bills duration rounded up to the millisecond.
    const ms = list.reduce((sum, d) => sum + Math.ceil(d), 0);
    lambdaMs += ms;
    gbSeconds += (memory.get(handler)! / 1024) * (ms / 1000);
  }
  return { name, run, realMs, gbSeconds, lambdaMs };
}

/**
 * Watches the provider (every 25 real ms) for the moments the runs do not report: when the
 * export's snapshot is available, when its export starts, and when each standby is available.
 * Creation times and object write times are read from the state itself (exact).
 */
class Watch {
  public snapshotStart?: number;
  public snapshotEnd?: number;
  public exportStart?: number;
  public readonly standbys = new Map<string, { created: number; available?: number }>();
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly provider: LocalProvider) {
    this.timer = setInterval(() => void this.look(), 25);
  }

  private async look(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = this.provider.clock.now();
      for (const s of await this.provider.elasticache(A).describeSnapshots({})) {
        if (!s.name.startsWith('orders-x-')) continue;
        this.snapshotStart ??= s.createdAt;
        if (s.status === 'available' || s.status === 'copying') this.snapshotEnd ??= now;
        if (s.status === 'copying') this.exportStart ??= now;
      }
      for (const g of await this.provider.elasticache(B).describeReplicationGroups()) {
        const seen = this.standbys.get(g.id) ?? { created: g.createdAt };
        if (g.status === 'available') seen.available ??= now;
        this.standbys.set(g.id, seen);
      }
    } catch {
      // a look that failed (a group deleted meanwhile) is retried at the next one
    } finally {
      this.busy = false;
    }
  }

  public stop(): void {
    clearInterval(this.timer);
  }
}

async function fill(address: string, port: number, bytes: number): Promise<number> {
  // The group has in-transit encryption (the construct's default): TLS, trusted through NODE_EXTRA_CA_CERTS.
  const client = new Redis({ host: address, port, maxRetriesPerRequest: 2, tls: {} });
  const values = Math.max(1, Math.round(bytes / VALUE_BYTES));
  // One random MiB, made unique per key by its first bytes: redis compresses each value on its own
  // (LZF), so the RDB keeps about the full size.
  const random = randomBytes(VALUE_BYTES);
  try {
    for (let i = 0; i < values; i += 64) {
      const pipeline = client.pipeline();
      for (let j = i; j < Math.min(values, i + 64); j++) {
        const v = Buffer.from(random);
        v.writeUInt32BE(j, 0);
        pipeline.set(`order:${j}`, v);
      }
      const results = await pipeline.exec();
      const failed = results?.find(([e]) => e);
      if (failed) throw failed[0];
    }
  } finally {
    client.disconnect();
  }
  return values;
}

const min = (ms: number | undefined) => (ms === undefined ? '   n/a' : `${(ms / 60_000).toFixed(1).padStart(6)}`);
const usd = (n: number) => `$${n.toFixed(6)}`;

async function main(): Promise<void> {
  const realStart = Date.now();
  const templates = synth();
  const provider = await LocalProvider.start({ speed: SPEED });
  const dataDir = provider.dataDir;
  let watch: Watch | undefined;
  const stopping = async (signal: string) => {
    watch?.stop();
    await provider.stop().catch(() => undefined);
    process.stderr.write(`stopped by ${signal}\n`);
    process.exit(130);
  };
  process.once('SIGINT', () => void stopping('SIGINT'));
  process.once('SIGTERM', () => void stopping('SIGTERM'));
  try {
    Object.assign(process.env, provider.env(), { AWS_REGION: A });
    const customResources = bundle('custom-resources');
    const recovery = await deployStack(provider, templates.dr, { stackName: 'Dr', region: B, account: ACCOUNT, customResources });
    const primary = await deployStack(provider, templates.main, { stackName: 'Main', region: A, account: ACCOUNT, customResources });
    const groupId = logicalIdOf(templates.main, 'AWS::ElastiCache::ReplicationGroup', 'Orders');
    const address = primary.attrs.get(`${groupId}.PrimaryEndPoint.Address`)!;
    const port = Number(primary.attrs.get(`${groupId}.PrimaryEndPoint.Port`) ?? 6379);

    const fillStart = Date.now();
    const keys = await fill(address, port, SIZE_GIB * GIB);
    const fillMs = Date.now() - fillStart;

    watch = new Watch(provider);
    const exportMemory = memoryByHandler(templates.main);
    const restoreMemory = memoryByHandler(templates.dr);
    const exportBucket = primary.refs.get(logicalIdOf(templates.main, 'AWS::S3::Bucket', 'Exports'))!;
    const replicaBucket = recovery.refs.get(logicalIdOf(templates.dr, 'AWS::S3::Bucket', 'Replica'))!;

    const exportStep = bundle('export-workflow');
    const exported = await timedRun('export', exportMemory, (lambdas) => {
      process.env.AWS_REGION = A;
      return runStateMachine({
        provider,
        deployment: primary,
        stateMachine: logicalIdOf(templates.main, 'AWS::StepFunctions::StateMachine', 'NightlyStateMachine'),
        lambdas: lambdas.wrap({ 'index.exportWorkflowStep': exportStep.exportWorkflowStep }),
      });
    });
    const restoreHandlers = { 'index.handler': bundle('standby-restore').handler, 'index.checkStandby': bundle('standby-check').checkStandby };
    const restore = (name: string, mode: string) => timedRun(name, restoreMemory, (lambdas) => {
      process.env.AWS_REGION = B;
      return runStateMachine({
        provider,
        deployment: recovery as Deployment,
        stateMachine: logicalIdOf(templates.dr, 'AWS::StepFunctions::StateMachine', 'RestoreStateMachine'),
        lambdas: lambdas.wrap(restoreHandlers),
        input: { mode },
      });
    });
    const failover = await restore('failover', 'failover');
    const rehearsal = await restore('rehearsal', 'rehearsal');
    watch.stop();

    // What the export wrote, and its copy in the recovery region: their write times are exact.
    const runName: string = exported.run.output.plan.snapshotName;
    const rdbKey = `${runName}-0001.rdb`;
    const source = provider.s3.bucket(exportBucket).objects.get(rdbKey)!;
    const copy = provider.s3.bucket(replicaBucket).objects.get(rdbKey)!;
    const rdbBytes = source.size;
    const exportEnd = source.lastModified.getTime();
    const replicated = copy.lastModified.getTime() - exportEnd;
    const standby = (r: RunReport) => {
      const s = watch!.standbys.get(r.run.output.standby);
      return s?.available !== undefined ? s.available - s.created : undefined;
    };
    const gib = rdbBytes / GIB;
    const model = {
      snapshot: DEFAULT_TIMINGS.snapshot + gib * DEFAULT_TIMINGS.snapshotPerGiB,
      export: DEFAULT_TIMINGS.exportSnapshot + gib * DEFAULT_TIMINGS.exportPerGiB,
      replication: 5 * 60_000 + gib * REPLICATION_PER_GIB,
      restore: DEFAULT_TIMINGS.createGroup + gib * DEFAULT_TIMINGS.restorePerGiB,
    };

    const out: string[] = [];
    out.push(`StandbyRestore benchmark: ${keys} keys of 1 MiB, RDB ${(rdbBytes / GIB).toFixed(3)} GiB (${rdbBytes} bytes); `
      + `clock speed ${SPEED}; node ${process.version}`);
    out.push(`fill: ${(fillMs / 1000).toFixed(1)} s real (pipelined SET of 1 MiB values)`);
    out.push('simulated durations (minutes)           observed   model');
    out.push(`  snapshot (CreateSnapshot -> available)  ${min(watch.snapshotEnd! - watch.snapshotStart!)}  ${min(model.snapshot)}`);
    out.push(`  export (CopySnapshot -> object in S3)   ${min(exportEnd - watch.exportStart!)}  ${min(model.export)}`);
    out.push(`  S3 replication to ${B}             ${min(replicated)}  ${min(model.replication)}`);
    out.push(`  restore, failover (create -> available) ${min(standby(failover))}  ${min(model.restore)}`);
    out.push(`  restore, rehearsal                      ${min(standby(rehearsal))}  ${min(model.restore)}`);
    out.push('runs                 status     sim min  RPO s   RTO s   transitions  Lambda calls  Lambda ms  GB-s      real s');
    for (const r of [exported, failover, rehearsal]) {
      const o = r.run.output ?? {};
      out.push(`  ${r.name.padEnd(18)} ${r.run.status.padEnd(10)} ${String(r.run.simulatedMinutes).padStart(7)}  `
        + `${String(o.rpoSeconds ?? '-').padStart(6)}  ${String(o.rtoSeconds ?? '-').padStart(6)}  `
        + `${String(r.run.stateTransitions).padStart(11)}  ${String(r.run.lambdaInvocations).padStart(12)}  `
        + `${String(r.lambdaMs).padStart(9)}  ${r.gbSeconds.toFixed(3).padStart(8)}  ${(r.realMs / 1000).toFixed(1).padStart(6)}`);
    }
    const cost = (r: RunReport) => r.run.stateTransitions * PRICE.transition + r.run.lambdaInvocations * PRICE.request + r.gbSeconds * PRICE.gbSecond;
    out.push(`cost at list prices, ${PRICE.region}, no free tier: Step Functions Standard $0.025/1,000 transitions, `
      + 'Lambda x86 $0.20/1M requests + $0.0000166667/GB-s');
    out.push(`  one rehearsal run: ${usd(cost(rehearsal))}; weekly rehearsal (${RUNS_PER_MONTH.toFixed(2)} runs/month): `
      + `${usd(cost(rehearsal) * RUNS_PER_MONTH)} per month`);
    out.push(`  (one export run: ${usd(cost(exported))}; one failover run: ${usd(cost(failover))}). Not included: the standby's node-hours `
      + 'while it exists, S3 storage, requests and cross-region transfer, CloudWatch.');
    out.push('  Lambda durations are this machine\'s, in-process against the local endpoint; in AWS they include network time and cold starts.');
    out.push(`real time, all: ${((Date.now() - realStart) / 1000).toFixed(1)} s`);
    console.log(out.join('\n'));
  } finally {
    watch?.stop();
    await provider.stop();
    const left = redisProcessesIn(dataDir);
    console.log(`cleanup: provider stopped, ${left.length} redis processes left in ${dataDir}${fs.existsSync(dataDir) ? ' (folder still there)' : ''}`);
    if (left.length > 0) process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
