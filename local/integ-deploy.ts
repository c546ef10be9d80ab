/**
 * The real AWS CDK CLI against the local provider: `cdk bootstrap` of every account/region an app's
 * stacks use, `cdk deploy --all --require-approval never`, `cdk destroy --all --force`, with the wall
 * time of each phase and which resource types the provider deployed for real and which it only
 * recorded (from the stacks' events: a recorded resource's event says "recorded only: ...",
 * local/cfn/resources/recorded.ts). Works with an in-process LocalProvider (`provider.env()`) or a
 * running `serve` (the environment it prints), as it only talks to the provider over HTTP.
 *
 * Used by test/local/integ-deploy.test.ts, the `integ:<case>:deploy:local` tasks (`main` below) and
 * the DR drill.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { LocalProvider } from './provider';

/** Where a stack of the assembly goes. */
export interface AssemblyStack {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
}

export interface CliRun {
  readonly code: number;
  readonly output: string;
}

export interface IntegDeployOptions {
  /** The environment pointing clients at the provider: `provider.env()`, or what `serve` printed. */
  readonly env: Record<string, string | undefined>;
  /** The app: a cloud assembly folder (cdk.out) or an app command (`npx ts-node app.ts`), synthesized once. */
  readonly app: string;
  /** The folder an app command runs in (its relative paths, its node_modules/.bin); the current one by default. */
  readonly appDir?: string;
  /** The folder the CLI runs in for the assembly (CDK_HOME, synth output); a new temporary one by default, removed by `cleanup()`. */
  readonly workDir?: string;
  /** The CDK CLI's entry point; by default the `aws-cdk` installed where the app is (`findCdkCli`). */
  readonly cli?: string;
  /** Printed as each phase ends. */
  readonly log?: (line: string) => void;
  /** Where each phase's CLI output goes (`<phase>.log`); the work folder by default. */
  readonly logDir?: string;
  /** Each CLI run's time limit, ms (default 15 minutes). */
  readonly timeoutMs?: number;
}

/** What a deployment did: wall time per phase (ms) and the resource types deployed for real or recorded only. */
export interface IntegDeployReport {
  readonly timings: Record<string, number>;
  readonly realTypes: string[];
  readonly recordedTypes: string[];
}

/**
 * The `aws-cdk` CLI (bin/cdk) installed for `from` (a folder: the app's), else the one installed with
 * this package. The user brings `aws-cdk` (a dev dependency here, not a dependency of the package).
 */
export function findCdkCli(from: string = process.cwd()): string {
  for (const paths of [[from], [__dirname]]) {
    try {
      return path.join(path.dirname(require.resolve('aws-cdk/package.json', { paths })), 'bin', 'cdk');
    } catch {
      // not installed there
    }
  }
  throw new Error(`The aws-cdk CLI is not installed for ${from}: install it there (npm install --save-dev aws-cdk) or pass its bin/cdk as cli`);
}

export interface CdkRunOptions {
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

/** Runs the CDK CLI (a child process of this Node.js) with `env` over the current environment; never rejects. */
export function runCdk(cli: string, args: string[], options: CdkRunOptions): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args, '--no-notices'], {
      cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 900_000,
    }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Every event of a stack, oldest first (DescribeStackEvents answers newest first, in pages). */
export async function stackEvents(cfn: CloudFormationClient, stackName: string): Promise<StackEvent[]> {
  const all: StackEvent[] = [];
  let token: string | undefined;
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token }));
    all.push(...page.StackEvents ?? []);
    token = page.NextToken;
  } while (token);
  return all.reverse();
}

/**
 * The stacks of a cloud assembly folder and their environments (manifest.json's `aws:cloudformation:stack`
 * artifacts). An environment-agnostic stack goes where the CLI sends it: `defaults` (the
 * provider's account, the environment's AWS_REGION).
 */
export function assemblyStacks(dir: string, defaults: { account: string; region: string } = { account: '000000000000', region: 'us-east-1' }): AssemblyStack[] {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`${dir} is not a cloud assembly: it has no manifest.json`);
  const manifest = JSON.parse(fs.readFileSync(file, 'utf-8'));
  const stacks: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const env = /^aws:\/\/([^/]+)\/(.+)$/.exec(artifact.environment ?? '');
    if (!env) throw new Error(`Stack ${id} of ${dir} has an environment that is not aws://ACCOUNT/REGION: ${JSON.stringify(artifact.environment)}`);
    stacks.push({
      stackName: artifact.properties?.stackName ?? id,
      account: env[1].startsWith('unknown-') ? defaults.account : env[1],
      region: env[2].startsWith('unknown-') ? defaults.region : env[2],
    });
  }
  if (stacks.length === 0) throw new Error(`${dir} holds no stacks`);
  return stacks;
}

/** One app deployed to the provider with the real CDK CLI, phase by phase. */
export class IntegDeployment {
  public readonly workDir: string;
  public readonly cli: string;
  public readonly timings: Record<string, number> = {};
  private readonly ownWorkDir: boolean;
  private readonly real = new Set<string>();
  private readonly recordedOnly = new Set<string>();
  private readonly clients = new Map<string, CloudFormationClient>();
  private assembly?: string;

  constructor(private readonly options: IntegDeployOptions) {
    if (!options.env.AWS_ENDPOINT_URL_CLOUDFORMATION) {
      throw new Error('The environment has no AWS_ENDPOINT_URL_CLOUDFORMATION: pass provider.env() or the variables `serve` prints');
    }
    this.ownWorkDir = !options.workDir;
    this.workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'integ-deploy-'));
    // The CLI runs in it: a folder that does not exist would fail every run with no output.
    fs.mkdirSync(this.workDir, { recursive: true });
    const appDir = fs.existsSync(options.app) ? path.dirname(path.resolve(options.app)) : options.appDir ?? process.cwd();
    this.cli = options.cli ?? findCdkCli(appDir);
  }

  /** The cloud assembly folder: the app itself, or the app command synthesized once into the work folder. */
  public async synth(): Promise<string> {
    if (this.assembly) return this.assembly;
    if (fs.existsSync(path.join(this.options.app, 'manifest.json'))) return (this.assembly = path.resolve(this.options.app));
    const out = path.join(this.workDir, 'cdk.out');
    await this.phase('synth', ['synth', '--quiet', '--app', this.options.app, '--output', out], this.options.appDir ?? process.cwd());
    return (this.assembly = out);
  }

  /** `cdk bootstrap` of every account/region the assembly's stacks use. */
  public async bootstrap(): Promise<void> {
    const envs = [...new Set(assemblyStacks(await this.synth(), this.defaults()).map((s) => `aws://${s.account}/${s.region}`))];
    await this.phase('bootstrap', ['bootstrap', ...envs]);
  }

  /** `cdk deploy --all`, of the app or another version of it (an assembly folder or app command); then notes the types deployed. */
  public async deploy(app?: string, phase = 'deploy'): Promise<void> {
    const assembly = app ?? await this.synth();
    await this.phase(phase, ['deploy', '--all', '--require-approval', 'never', '--app', assembly]);
    if (fs.existsSync(path.join(assembly, 'manifest.json'))) await this.noteTypes(assemblyStacks(assembly, this.defaults()));
  }

  /** `cdk destroy --all --force`. */
  public async destroy(app?: string): Promise<void> {
    await this.phase('destroy', ['destroy', '--all', '--force', '--app', app ?? await this.synth()]);
  }

  /** A CloudFormation client of the provider in a region. */
  public cloudformation(region: string): CloudFormationClient {
    let cfn = this.clients.get(region);
    if (!cfn) {
      const env = this.options.env;
      cfn = new CloudFormationClient({
        region,
        endpoint: env.AWS_ENDPOINT_URL_CLOUDFORMATION,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local' },
      });
      this.clients.set(region, cfn);
    }
    return cfn;
  }

  /** Where environment-agnostic stacks go: the provider's account (STS answers 000000000000) and the environment's region. */
  private defaults(): { account: string; region: string } {
    return { account: this.options.env.CDK_INTEG_ACCOUNT ?? '000000000000', region: this.options.env.AWS_REGION ?? this.options.env.AWS_DEFAULT_REGION ?? 'us-east-1' };
  }

  public report(): IntegDeployReport {
    return { timings: { ...this.timings }, realTypes: [...this.real].sort(), recordedTypes: [...this.recordedOnly].sort() };
  }

  /** Closes the clients and removes the work folder if it made it. */
  public cleanup(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
    if (this.ownWorkDir) fs.rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Runs one CLI command as a timed phase; a failure throws with the CLI's output. */
  private async phase(name: string, args: string[], cwd = this.workDir): Promise<CliRun> {
    const env = { ...this.options.env, CDK_HOME: path.join(this.workDir, 'cdk-home') };
    const start = Date.now();
    const run = await runCdk(this.cli, args, { cwd, env, timeoutMs: this.options.timeoutMs });
    this.timings[name] = (this.timings[name] ?? 0) + Date.now() - start;
    const logDir = this.options.logDir ?? this.workDir;
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(path.join(logDir, `${name.replace(/[^\w.-]+/g, '-')}.log`), run.output);
    this.options.log?.(`${name}: ${this.timings[name]} ms (cdk ${args.join(' ')}, exit ${run.code})`);
    if (run.code !== 0) throw new Error(`cdk ${args.join(' ')} failed (exit ${run.code}):\n${run.output.trimEnd().split('\n').slice(-40).join('\n')}`);
    return run;
  }

  /** From each stack's events: a resource's completed create/update is either real or says "recorded only". */
  private async noteTypes(stacks: AssemblyStack[]): Promise<void> {
    for (const stack of stacks) {
      for (const e of await stackEvents(this.cloudformation(stack.region), stack.stackName)) {
        if (!e.ResourceType || e.ResourceType === 'AWS::CloudFormation::Stack') continue;
        if (e.ResourceStatus !== 'CREATE_COMPLETE' && e.ResourceStatus !== 'UPDATE_COMPLETE') continue;
        if (e.ResourceStatusReason?.startsWith('recorded only')) this.recordedOnly.add(e.ResourceType);
        else this.real.add(e.ResourceType);
      }
    }
  }
}

export interface IntegDeployRoundOptions extends IntegDeployOptions {
  /** Run after the deploy, before the destroy (e.g. the DR drill's checks). */
  readonly between?: (d: IntegDeployment) => Promise<void>;
}

/** Bootstrap, deploy, destroy: the whole round, reported. Destroys what was deployed even when a later step fails. */
export async function integDeploy(options: IntegDeployRoundOptions): Promise<IntegDeployReport> {
  const d = new IntegDeployment(options);
  try {
    await d.bootstrap();
    let deployed = false;
    try {
      await d.deploy();
      deployed = true;
      await options.between?.(d);
    } finally {
      // A failed deploy may leave stacks behind (ROLLBACK_COMPLETE): destroy removes them too.
      if (deployed || Object.keys(d.timings).includes('deploy')) await d.destroy();
    }
    return d.report();
  } finally {
    d.cleanup();
  }
}

/** Formats a report for people. */
export function formatReport(report: IntegDeployReport): string[] {
  return [
    `wall time (ms): ${Object.entries(report.timings).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `deployed for real: ${report.realTypes.join(', ')}`,
    `recorded only: ${report.recordedTypes.join(', ')}`,
  ];
}

/**
 * `integ:<case>:deploy:local`: `ts-node local/integ-deploy.ts <app command or cdk.out>`. Deploys to the
 * provider whose environment is exported (`export $(npx cdk-elasticache-backup serve --detach)`),
 * else to one started here and stopped at the end; bootstraps, deploys, prints the report, destroys.
 * The committed integration snapshot is never touched (the real-account deploy task replaces it).
 */
async function main(argv: string[]): Promise<number> {
  const app = argv.join(' ').trim();
  if (!app) {
    process.stderr.write('usage: integ-deploy <app command | cloud assembly folder>\n');
    return 2;
  }
  // A cross-region app needs its account at synth (integ/ apps read CDK_INTEG_ACCOUNT): the provider's.
  process.env.CDK_INTEG_ACCOUNT = process.env.CDK_INTEG_ACCOUNT ?? '000000000000';
  const served = process.env.AWS_ENDPOINT_URL_CLOUDFORMATION !== undefined;
  const provider = served ? undefined : await LocalProvider.start({ speed: 600 });
  const env: Record<string, string | undefined> = { ...(provider ? provider.env() : process.env), CDK_INTEG_ACCOUNT: process.env.CDK_INTEG_ACCOUNT };
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(served ? `Deploying ${app} to the provider at ${env.AWS_ENDPOINT_URL_CLOUDFORMATION}` : `Deploying ${app} to a local provider started for it (${provider!.endpoint})`);
  try {
    const report = await integDeploy({ env, app, log: print });
    for (const line of formatReport(report)) print(line);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  } finally {
    await provider?.stop();
  }
}

// Run as a script (not when bundled into lib/local/cli.js, where `module` is the bundle's own).
if (require.main === module && /[\\/]integ-deploy\.[jt]s$/.test(require.main.filename)) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(1);
  });
}
