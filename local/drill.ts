/**
 * The local DR drill.
 *
 * Stage 1: synthesize the example app in integ/, with cdk-nag's AwsSolutions pack enforced, and
 * report what it declares.
 * Stage 2: rehearse the DR path for its first cluster-mode-disabled group on the local provider
 * (create, fill, snapshot from the backup source, export, replicate to the recovery region,
 * restore a standby, move the DNS name, read every key back). The steps are driven with SDK calls
 * until the template deployer and the Step Functions workflows replace that driver.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { rehearse } from './rehearsal';
import { summarizeTemplate } from './summary';
import { buildApp } from '../integ/integ.backup-plan';

export interface DrillResult {
  readonly lines: string[];
  readonly replicationGroups: number;
  readonly acknowledgedFindings: number;
  /** Keys read back through the DNS name after the rehearsed restore. */
  readonly keysRestored: number;
}

/** Runs the drill's stages and returns what it printed. */
export async function runDrill(outdir: string, print: (line: string) => void = () => undefined): Promise<DrillResult> {
  const lines: string[] = [];
  lines.push('Stage 1: synthesize integ/integ.backup-plan.ts (cdk-nag AwsSolutions enforced)');
  // Synthesis throws when a validation plugin reports an unacknowledged finding.
  const assembly = buildApp(outdir).synth();
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
  lines.forEach((line) => print(line));

  const more = (line: string) => {
    lines.push(line);
    print(line);
  };
  more('Stage 2: rehearse the DR path on the local provider (eu-west-1 -> us-west-2)');
  const template = assembly.stacks[0].template;
  const rehearsal = await rehearse({ template, log: more });
  more(`Drill passed: ${rehearsal.keysRestored.toLocaleString('en-US')} keys read back through the DNS name, now pointing at ${rehearsal.dnsTarget}`);
  return { lines, replicationGroups: groups, acknowledgedFindings: acknowledged, keysRestored: rehearsal.keysRestored };
}

if (require.main === module) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'elasticache-drill-'));
  runDrill(outdir, (line) => console.log(line)).catch((e) => {
    console.error(`drill failed: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
