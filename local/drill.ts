/**
 * The local DR drill on the example app (`npx projen drill`, the README's first command).
 *
 * Stage 1: synthesize integ/integ.scheduled-export.ts for the local provider's account, with
 * cdk-nag's AwsSolutions pack enforced, and report what it declares.
 * Stage 2: the drill (local/drill/run.ts) on that cloud assembly: deployed with the real CDK CLI,
 * a week of nightly exports on the simulated clock while the group is written to, an outage of the
 * primary region, the StandbyRestore failover, every write read back through the DNS name; the
 * report (RPO, RTO, runs, cost, timeline) goes to drill-report/.
 * `cdk-elasticache-backup drill --app` runs stage 2 on any app (local/drill/command.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { drillAndReport, parseDrillArgs } from './drill/command';
import { LOCAL_ACCOUNT } from './sts';
import { summarizeTemplate } from './summary';
import { buildApp } from '../integ/integ.scheduled-export';

export interface SynthResult {
  readonly lines: string[];
  readonly replicationGroups: number;
  readonly acknowledgedFindings: number;
}

/** Stage 1: synthesizes the example app into `outdir` for the local provider's account and summarizes it. */
export function synthesizeExample(outdir: string): SynthResult {
  const lines: string[] = ['Stage 1: synthesize integ/integ.scheduled-export.ts (cdk-nag AwsSolutions enforced)'];
  const saved = process.env.CDK_INTEG_ACCOUNT;
  process.env.CDK_INTEG_ACCOUNT = LOCAL_ACCOUNT;
  let assembly;
  try {
    // Synthesis throws when a validation plugin reports an unacknowledged finding.
    assembly = buildApp(outdir).synth();
  } finally {
    if (saved === undefined) delete process.env.CDK_INTEG_ACCOUNT;
    else process.env.CDK_INTEG_ACCOUNT = saved;
  }
  let groups = 0;
  let acknowledged = 0;
  for (const stack of assembly.stacks) {
    lines.push(...summarizeTemplate(stack.stackName, stack.template));
    groups += Object.values<any>(stack.template.Resources ?? {}).filter((r) => r.Type === 'AWS::ElastiCache::ReplicationGroup').length;
    for (const entry of stack.findMetadataByType('aws:cdk:acknowledged-rules')) {
      // The pack this stage enforces; the library also acknowledges HIPAA and NIST findings.
      acknowledged += Object.keys(entry.data as object).filter((id) => id.startsWith('AwsSolutions-')).length;
    }
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf-8'));
  const unresolved = (report.pluginReports ?? []).flatMap((r: any) => r.violations ?? []).length;
  lines.push(`cdk-nag AwsSolutions: ${unresolved} unacknowledged finding(s), ${acknowledged} acknowledged with a reason`);
  lines.push(`Cloud assembly: ${outdir}`);
  return { lines, replicationGroups: groups, acknowledgedFindings: acknowledged };
}

/** The drill on the example app: stage 1, then stage 2 with the options given (as `drill` takes them, without --app). */
export async function exampleDrill(args: string[], print: (line: string) => void): Promise<number> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'elasticache-drill-'));
  try {
    const synth = synthesizeExample(outdir);
    synth.lines.forEach((line) => print(line));
    print('Stage 2: the DR drill on the local provider (eu-west-1 -> us-west-2)');
    const options = parseDrillArgs(['--app', outdir, ...args]);
    return (await drillAndReport(options, print)).code;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

// Run as a script (not when bundled into lib/local/cli.js, where `module` is the bundle's own).
if (require.main === module && /[\\/]drill\.[jt]s$/.test(require.main.filename)) {
  const started = Date.now();
  exampleDrill(process.argv.slice(2), (line) => console.log(line)).then((code) => {
    console.log(`Wall time ${((Date.now() - started) / 1000).toFixed(1)} s, peak memory (this process) ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    process.exitCode = code;
  }).catch((e) => {
    console.error(`drill failed: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
