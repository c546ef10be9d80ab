/**
 * The local DR drill.
 *
 * Stage 1 (this stage): synthesize the example app in integ/, with cdk-nag's AwsSolutions pack
 * enforced, and report what it declares. The later stages (deploy into the local provider, run
 * the backup/export and standby-restore workflows, check the data) are added as the local provider
 * and the workflows are built.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { summarizeTemplate } from './summary';
import { buildApp } from '../integ/integ.backup-plan';

export interface DrillResult {
  readonly lines: string[];
  readonly replicationGroups: number;
  readonly acknowledgedFindings: number;
}

/** Runs the drill's stages and returns what it would print. */
export function runDrill(outdir: string): DrillResult {
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
      acknowledged += Object.keys(entry.data as object).length;
    }
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf-8'));
  const unresolved = (report.pluginReports ?? []).flatMap((r: any) => r.violations ?? []).length;
  lines.push(`cdk-nag AwsSolutions: ${unresolved} unacknowledged finding(s), ${acknowledged} acknowledged with a reason`);
  lines.push(`Cloud assembly: ${outdir}`);
  return { lines, replicationGroups: groups, acknowledgedFindings: acknowledged };
}

if (require.main === module) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'elasticache-drill-'));
  try {
    const result = runDrill(outdir);
    console.log(result.lines.join('\n'));
    if (result.replicationGroups === 0) {
      console.error('drill: the example app declares no replication group');
      process.exitCode = 1;
    }
  } catch (e) {
    console.error(`drill failed: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
