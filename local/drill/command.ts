/**
 * `cdk-elasticache-backup drill`: the DR drill on a user's app (and, through local/drill.ts, on the
 * example app): run it, write the report, print RPO, RTO, cost and the report's path; exit non-zero
 * when a step failed, saying which and why (the report is written all the same).
 */
import * as path from 'path';
import { writeReport } from './report';
import { DrillFailure, DrillOptions, DrillResult, runDrill } from './run';

export const DRILL_USAGE = `Usage: cdk-elasticache-backup drill --app <cdk.out directory | app command> [options]

Deploys the app into a local provider of its own with the AWS CDK CLI (install aws-cdk in your app),
fills the group that its ScheduledSnapshotExport backs up and keeps writing to it, lets simulated
days run (the schedules export every night), declares an outage of the primary region, starts the
StandbyRestore workflow in failover mode and reads every write back through the DNS name. Prints
RPO, RTO and the monthly cost of the schedule, and writes a report (report.md, timeline.svg,
drill-log.json). The app's stacks must be for account 000000000000, the local provider's.

  --app APP                  a cloud assembly directory, or an app command (as cdk --app takes)
  --days N                   simulated days before the outage (default 7)
  --writes-per-minute N      writes a simulated minute to the primary (default 20)
  --keys N                   keys written before the days start (default 10000)
  --value-bytes N            bytes per value (default 256)
  --outage-after-hours N     when the outage is declared, in simulated hours (default: days x 24)
  --report-dir DIR           where the report goes (default ./drill-report)
`;

export interface DrillCommandOptions extends Omit<DrillOptions, 'print'> {
  readonly reportDir: string;
}

/** Parses the command's arguments; throws naming the argument and the rule. */
export function parseDrillArgs(args: string[]): DrillCommandOptions {
  const o: { -readonly [K in keyof DrillCommandOptions]?: DrillCommandOptions[K] } = {};
  const numbers: Record<string, 'days' | 'writesPerMinute' | 'datasetKeys' | 'valueBytes' | 'outageAfterHours'> = {
    '--days': 'days', '--writes-per-minute': 'writesPerMinute', '--keys': 'datasetKeys', '--value-bytes': 'valueBytes', '--outage-after-hours': 'outageAfterHours',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--app') {o.app = value();} else if (arg === '--report-dir') {o.reportDir = value();} else if (arg in numbers) {
      const text = value();
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${arg} must be a number, got ${JSON.stringify(text)}`);
      o[numbers[arg]] = n;
    } else {throw new Error(`unknown option ${arg}`);}
  }
  if (!o.app) throw new Error('--app is required: a cdk.out directory or an app command');
  return { ...o, app: o.app, reportDir: path.resolve(o.reportDir ?? 'drill-report') };
}

/** Runs the drill, writes its report, prints the summary; answers the exit code. */
export async function drillAndReport(o: DrillCommandOptions, print: (line: string) => void): Promise<{ code: number; result?: DrillResult }> {
  let result: DrillResult;
  try {
    result = await runDrill({ ...o, print });
  } catch (e) {
    // Nothing was drilled (bad options, nothing to drill): there is no log to report.
    print(`Drill failed at ${e instanceof DrillFailure ? e.step : 'start'}: ${e instanceof DrillFailure ? e.reason : (e as Error).message}`);
    return { code: 1 };
  }
  const written = writeReport(o.reportDir, result.log);
  for (const line of written.lines) print(line);
  if (result.failure) {
    print(`Drill failed at ${result.failure}`);
    return { code: 1, result };
  }
  print('Drill passed');
  return { code: 0, result };
}
