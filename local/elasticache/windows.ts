/**
 * ElastiCache's two windows: the daily snapshot window `hh24:mi-hh24:mi` and the weekly maintenance
 * window `ddd:hh24:mi-ddd:hh24:mi`, both UTC and at least 60 minutes, and never overlapping (the
 * snapshot window repeats every day). ElastiCache API reference, CreateReplicationGroup:
 * SnapshotWindow ("Example: 05:00-09:00") and PreferredMaintenanceWindow ("ddd:hh24:mi-ddd:hh24:mi
 * ... The minimum maintenance window is a 60 minute period"); the CloudFormation reference gives
 * the 60-minute minimum for SnapshotWindow. The messages for the minimum and the overlap are the
 * ones users report from ElastiCache (ELASTICACHE-FACTS.md); ElastiCache's message for a malformed
 * window is not documented, so the format message here is the emulator's own.
 */
import { invalidParameterValue } from './errors';

const DAY_MINUTES = 24 * 60;
const WEEK_MINUTES = 7 * DAY_MINUTES;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const HHMM = '([01]\\d|2[0-3]):([0-5]\\d)';
const SNAPSHOT = new RegExp(`^${HHMM}-${HHMM}$`);
const MAINTENANCE = new RegExp(`^(${DAYS.join('|')}):${HHMM}-(${DAYS.join('|')}):${HHMM}$`, 'i');

/** A window as a start and a length, in minutes (from midnight, or from Sunday midnight). */
interface Span {
  readonly start: number;
  readonly length: number;
}

/** The snapshot window, checked: format and at least 60 minutes. */
export function snapshotWindow(value: string): Span {
  const m = SNAPSHOT.exec(value);
  if (!m) {
    throw invalidParameterValue(`Invalid value for parameter SnapshotWindow: ${value}. The format is hh24:mi-hh24:mi (UTC), for example 05:00-09:00.`);
  }
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  const length = (end - start + DAY_MINUTES) % DAY_MINUTES;
  if (length < 60) {
    throw invalidParameterValue(`Snapshot window must be at least 60 minutes. ${value} is ${length} minutes.`);
  }
  return { start, length };
}

/** The maintenance window, checked: format and at least 60 minutes. */
export function maintenanceWindow(value: string): Span {
  const m = MAINTENANCE.exec(value);
  if (!m) {
    throw invalidParameterValue(`Invalid value for parameter PreferredMaintenanceWindow: ${value}. The format is ddd:hh24:mi-ddd:hh24:mi (UTC), with ddd one of ${DAYS.join(', ')}; for example sun:23:00-mon:01:30.`);
  }
  const at = (day: string, hh: string, mi: string) => DAYS.indexOf(day.toLowerCase()) * DAY_MINUTES + Number(hh) * 60 + Number(mi);
  const start = at(m[1], m[2], m[3]);
  const length = (at(m[4], m[5], m[6]) - start + WEEK_MINUTES) % WEEK_MINUTES;
  if (length < 60) {
    throw invalidParameterValue(`Maintenance window must be at least 60 minutes. ${value} is ${length} minutes.`);
  }
  return { start, length };
}

/** Whether the daily snapshot window meets the weekly maintenance window on any day. */
export function overlap(snapshot: Span, maintenance: Span): boolean {
  const meets = (a: Span, b: Span) => ((b.start - a.start + WEEK_MINUTES) % WEEK_MINUTES) < a.length
    || ((a.start - b.start + WEEK_MINUTES) % WEEK_MINUTES) < b.length;
  return DAYS.some((_, day) => meets({ start: day * DAY_MINUTES + snapshot.start, length: snapshot.length }, maintenance));
}

const SNAPSHOT_DEFAULTS = ['05:00-06:00', '09:00-10:00', '13:00-14:00', '17:00-18:00', '21:00-22:00', '01:00-02:00'];
const MAINTENANCE_DEFAULTS = ['sun:23:00-mon:00:00', 'wed:11:00-wed:12:00', 'sat:15:00-sat:16:00', 'tue:07:00-tue:08:00'];

/**
 * The windows of a group, checked, with ElastiCache's choice for one not given (it picks one
 * that does not overlap the other; which one it picks is not documented).
 */
export function checkWindows(given: { snapshot?: string; maintenance?: string }): { snapshot: string; maintenance: string } {
  const snapshotSpan = given.snapshot !== undefined ? snapshotWindow(given.snapshot) : undefined;
  const maintenanceSpan = given.maintenance !== undefined ? maintenanceWindow(given.maintenance) : undefined;
  const snapshot = given.snapshot
    ?? SNAPSHOT_DEFAULTS.find((w) => !maintenanceSpan || !overlap(snapshotWindow(w), maintenanceSpan)) ?? SNAPSHOT_DEFAULTS[0];
  const maintenance = given.maintenance
    ?? MAINTENANCE_DEFAULTS.find((w) => !overlap(snapshotSpan ?? snapshotWindow(snapshot), maintenanceWindow(w))) ?? MAINTENANCE_DEFAULTS[0];
  if (overlap(snapshotWindow(snapshot), maintenanceWindow(maintenance))) {
    throw invalidParameterValue('The snapshot window and maintenance window must not overlap.');
  }
  return { snapshot, maintenance };
}
