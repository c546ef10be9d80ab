/**
 * The drill's event log: everything the drill saw, with its simulated time. The report (RPO, RTO,
 * runs, cost, timeline) is computed from this log alone, and the log is written next to the report
 * as JSON, so its numbers can be checked against what happened.
 */
import type { RunSummary } from './runs';

/** Times are simulated milliseconds since the epoch. */
export type DrillEvent =
  /** The dataset written before the days start. */
  | { type: 'dataset'; at: number; keys: number; valueBytes: number }
  /** Writes acknowledged by the primary up to `at` (since the previous such event); `total` so far. */
  | { type: 'writes'; at: number; count: number; total: number }
  /** A snapshot of the group seen available (`source`: automated or manual). */
  | { type: 'snapshot'; at: number; name: string; source: string }
  /** What the export prefix holds at the end of a day, in the export bucket and in the replica. */
  | { type: 'storage'; at: number; exportBytes: number; replicaBytes: number; exportObjects: number; replicaObjects: number }
  | { type: 'runStarted'; at: number; executionArn: string; kind: string }
  | { type: 'runEnded'; at: number; kind: string; run: RunSummary }
  | { type: 'outage'; at: number; region: string }
  /** The name applications use first resolved to the standby. */
  | { type: 'dns'; at: number; record: string; target: string }
  | { type: 'readBack'; at: number; written: number; survived: number; lastWriteAt?: number; lastSurvivingWriteAt?: number }
  | { type: 'failure'; at: number; reason: string };

export interface DrillSettings {
  readonly days: number;
  readonly writesPerMinute: number;
  readonly datasetKeys: number;
  readonly valueBytes: number;
  readonly primaryRegion: string;
  readonly recoveryRegion: string;
}

export class DrillLog {
  public static fromJSON(json: { settings: DrillSettings; events: DrillEvent[] }): DrillLog {
    const log = new DrillLog(json.settings);
    json.events.forEach((e) => log.add(e));
    return log;
  }

  public readonly events: DrillEvent[] = [];

  constructor(public readonly settings: DrillSettings) {}

  public add(e: DrillEvent): void {
    this.events.push(e);
  }

  /** Events of one type, in order. */
  public all<T extends DrillEvent['type']>(type: T): Array<Extract<DrillEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<DrillEvent, { type: T }> => e.type === type);
  }

  /** The first event of a type, if any. */
  public first<T extends DrillEvent['type']>(type: T): Extract<DrillEvent, { type: T }> | undefined {
    return this.all(type)[0];
  }

  /** Runs that ended in [from, to). */
  public runsBetween(from: number, to: number): Array<{ kind: string; status: string; run: RunSummary }> {
    return this.all('runEnded').filter((e) => e.at >= from && e.at < to).map((e) => ({ kind: e.kind, status: e.run.status, run: e.run }));
  }

  public toJSON(): { settings: DrillSettings; events: DrillEvent[] } {
    return { settings: this.settings, events: this.events };
  }
}
