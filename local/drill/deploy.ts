/**
 * Deploys a synthesized app into a local provider the way a user does: the real AWS CDK CLI
 * (`cdk bootstrap` of every environment the app's stacks use, then `cdk deploy --all`), run as a
 * child process with the provider's endpoint variables, and nothing else. Reports the wall time of
 * each phase and which resource types were deployed for real and which recorded only.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assemblyStacks } from './plan';
import { LocalProvider } from '../provider';

export interface DeployReport {
  /** Wall time of each CLI run, in order. */
  readonly phases: Array<{ name: string; ms: number }>;
  /** Resource types deployed for real, sorted. */
  readonly real: string[];
  /** Resource types recorded only, sorted. */
  readonly recorded: string[];
}

export interface DeployOptions {
  /** Lines of progress (each CLI run and its time). */
  readonly print?: (line: string) => void;
  /** The CDK CLI's entry point. @default aws-cdk's bin/cdk, found from the working directory, then from this package */
  readonly cli?: string;
}

/** The CDK CLI the user has (their app's aws-cdk), else the one beside this package. */
export function findCdkCli(): string {
  for (const from of [process.cwd(), __dirname]) {
    try {
      return path.join(path.dirname(require.resolve('aws-cdk/package.json', { paths: [from] })), 'bin', 'cdk');
    } catch {
      // not there
    }
  }
  throw new Error('the AWS CDK CLI (npm package aws-cdk) is not installed: install it in your app (npm install -D aws-cdk), as for cdk deploy');
}

/** Runs the CDK CLI with the provider's variables; rejects with its output when it fails. */
export function runCdk(provider: LocalProvider, cli: string, args: string[], home: string): Promise<string> {
  const env = { ...process.env, ...provider.env(), CDK_HOME: home };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args, '--no-notices'], { env, maxBuffer: 64 * 1024 * 1024, timeout: 900_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`cdk ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Bootstraps every environment of the assembly in `dir` and deploys all its stacks. */
export async function deployAssembly(provider: LocalProvider, dir: string, options: DeployOptions = {}): Promise<DeployReport> {
  const print = options.print ?? (() => undefined);
  const cli = options.cli ?? findCdkCli();
  const stacks = assemblyStacks(dir);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-home-'));
  const phases: Array<{ name: string; ms: number }> = [];
  const timed = async (name: string, args: string[]) => {
    const start = Date.now();
    await runCdk(provider, cli, args, home);
    phases.push({ name, ms: Date.now() - start });
    print(`${name}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  };
  try {
    const envs = [...new Set(stacks.map((s) => `aws://${s.account}/${s.region}`))];
    await timed(`cdk bootstrap ${envs.join(' ')}`, ['bootstrap', ...envs]);
    await timed('cdk deploy --all', ['deploy', '--all', '--require-approval', 'never', '--app', dir]);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  const real = new Set<string>();
  const recorded = new Set<string>();
  for (const s of stacks) {
    for (const r of provider.cloudformation(s.region).stack(s.name).resources.values()) (r.recorded ? recorded : real).add(r.type);
  }
  return { phases, real: [...real].sort(), recorded: [...recorded].sort() };
}
