/**
 * The DR drill's event log: what happened, on the simulated clock (milliseconds since the Unix
 * epoch on the drill's clock, not wall time). The drill writes it as JSON next to its report, and
 * the cost model and the report are computed from it alone.
 */

/** One simulated day in the log's unit (milliseconds). */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** A Step Functions run's Lambda use: invocations, their summed billed duration, and the memory. */
export interface LambdaUse {
  readonly invocations: number;
  /** Sum of the invocations' durations, in milliseconds. */
  readonly durationMs: number;
  /** Configured memory of the function (128 MB is Lambda's default, which the library keeps). */
  readonly memoryMb: number;
}

export type RunKind = 'export' | 'restore' | 'rehearsal';
export type RunStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export type DrillEvent =
  /** A batch of acknowledged writes; `lastAckAt` is when the batch's last write was acknowledged. */
  | { readonly at: number; readonly type: 'writes'; readonly count: number; readonly lastKey: string; readonly lastAckAt: number }
  | { readonly at: number; readonly type: 'snapshot-taken'; readonly kind: 'automatic' | 'manual'; readonly group: string; readonly name: string; readonly bytes: number }
  | { readonly at: number; readonly type: 'snapshot-deleted'; readonly name: string }
  | { readonly at: number; readonly type: 'run-started'; readonly runId: string; readonly stateMachine: string; readonly kind: RunKind }
  | {
    readonly at: number;
    readonly type: 'run-ended';
    readonly runId: string;
    readonly status: RunStatus;
    readonly stateTransitions: number;
    readonly lambda: LambdaUse;
    readonly error?: string;
    readonly cause?: string;
  }
  | { readonly at: number; readonly type: 'object-written'; readonly region: string; readonly bucket: string; readonly key: string; readonly bytes: number }
  | { readonly at: number; readonly type: 'object-replicated'; readonly fromRegion: string; readonly region: string; readonly bucket: string; readonly key: string; readonly bytes: number }
  | { readonly at: number; readonly type: 'object-pruned'; readonly region: string; readonly bucket: string; readonly key: string }
  | { readonly at: number; readonly type: 'outage-declared'; readonly region: string }
  | { readonly at: number; readonly type: 'restore-started'; readonly group: string }
  | { readonly at: number; readonly type: 'restore-succeeded'; readonly group: string }
  | { readonly at: number; readonly type: 'restore-failed'; readonly group: string; readonly cause: string }
  | { readonly at: number; readonly type: 'dns-in-sync'; readonly name: string }
  /**
   * Writes read back after the restore, of `written` acknowledged ones (when the reader knows), and
   * the write time of the newest one that came back (when the reader knows: then RPO time is exact).
   */
  | { readonly at: number; readonly type: 'keys-read-back'; readonly count: number; readonly written?: number; readonly lastSurvivingWriteAt?: number }
  /** Why the drill failed, and in which step. */
  | { readonly at: number; readonly type: 'drill-failed'; readonly step: string; readonly reason: string };

export type DrillEventType = DrillEvent['type'];

/** The whole log: the simulated span of the drill and its events in time order. */
export interface DrillLog {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly events: readonly DrillEvent[];
}

const TYPES: readonly DrillEventType[] = [
  'writes', 'snapshot-taken', 'snapshot-deleted', 'run-started', 'run-ended', 'object-written', 'object-replicated',
  'object-pruned', 'outage-declared', 'restore-started', 'restore-succeeded', 'restore-failed', 'dns-in-sync', 'keys-read-back', 'drill-failed',
];

/** Events of one type, typed. */
export function eventsOf<T extends DrillEventType>(log: DrillLog, type: T): Extract<DrillEvent, { type: T }>[] {
  return log.events.filter((e): e is Extract<DrillEvent, { type: T }> => e.type === type);
}

/**
 * Checks the log's shape (span, order, known types) and returns it; throws an error naming the
 * event and the rule it breaks. Used on a log read back from JSON.
 */
export function checkDrillLog(value: unknown): DrillLog {
  const log = value as DrillLog;
  if (typeof log !== 'object' || log === null || !Array.isArray(log.events)) {
    throw new Error('drill log: expected an object with startedAt, endedAt and an events array');
  }
  if (!Number.isFinite(log.startedAt) || !Number.isFinite(log.endedAt) || log.endedAt <= log.startedAt) {
    throw new Error(`drill log: endedAt (${log.endedAt}) must be a number after startedAt (${log.startedAt})`);
  }
  let previous = log.startedAt;
  log.events.forEach((e, i) => {
    if (!TYPES.includes(e?.type)) throw new Error(`drill log: events[${i}].type ${JSON.stringify(e?.type)} is not one of ${TYPES.join(', ')}`);
    if (!Number.isFinite(e.at) || e.at < previous || e.at > log.endedAt) {
      throw new Error(`drill log: events[${i}] (${e.type}) at ${e.at} must be in time order within [startedAt, endedAt]`);
    }
    previous = e.at;
  });
  return log;
}
