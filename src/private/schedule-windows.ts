import { Token } from 'aws-cdk-lib';
import { GroupFacts } from './group-facts';
import { MINUTES_PER_DAY, MINUTES_PER_WEEK, WindowRange } from './window-range';

/**
 * When an EventBridge cron schedule can start a run, reduced to what the windows need: minutes of
 * the hour, hours of the day and days of the week (0 = Sunday) it can fire on, all in UTC (rules
 * have no time zone). A day-of-month schedule can fall on any day of the week.
 *
 * Syntax as in the EventBridge user guide, "Cron expressions reference"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html): six fields,
 * `minutes hours day-of-month month day-of-week year`; day-of-week 1-7 or SUN-SAT (1 = SUN), with
 * `L` (last day of the week, or `5L`: the last Thursday) and `#` (`3#2`: the second Tuesday).
 * `1/10` is every tenth minute from minute 1.
 */
export interface FireTimes {
  readonly minutes: number[];
  readonly hours: number[];
  readonly weekdays: number[];
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/**
 * The fire times of `cron(...)`, or undefined for a rate, a token, or anything not parsed here
 * (the windows are then not checked).
 */
export function cronFireTimes(expression: string): FireTimes | undefined {
  if (Token.isUnresolved(expression)) {
    return undefined;
  }
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  if (!match) {
    return undefined;
  }
  const fields = match[1].trim().split(/\s+/);
  if (fields.length !== 6) {
    return undefined;
  }
  const [minuteField, hourField, dayOfMonth, , dayOfWeek] = fields;
  const minutes = parseField(minuteField, 0, 59);
  const hours = parseField(hourField, 0, 23);
  let weekdays: number[] | undefined;
  if (dayOfWeek === '?' || dayOfWeek === '*') {
    weekdays = [0, 1, 2, 3, 4, 5, 6];
  } else if (dayOfMonth === '?') {
    weekdays = parseDaysOfWeek(dayOfWeek);
  }
  if (!minutes || !hours || !weekdays) {
    return undefined;
  }
  return { minutes, hours, weekdays };
}

function parseField(text: string, min: number, max: number, names: string[] = [], first = min): number[] | undefined {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|[A-Z0-9]+)(?:-([A-Z0-9]+))?(?:\/(\d+))?$/i.exec(part);
    if (!m) {
      return undefined;
    }
    const value = (v: string) => {
      const i = names.indexOf(v.toUpperCase());
      return i >= 0 ? i + first : /^\d+$/.test(v) ? Number(v) : NaN;
    };
    const from = m[1] === '*' ? min : value(m[1]);
    const to = m[1] === '*' ? max : m[2] !== undefined ? value(m[2]) : m[3] !== undefined ? max : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (!(from >= min && to <= max && from <= to && step >= 1) || (m[1] === '*' && m[2] !== undefined)) {
      return undefined;
    }
    for (let v = from; v <= to; v += step) {
      values.add(v);
    }
  }
  return [...values].sort((a, b) => a - b);
}

/** Day-of-week 1-7 (SUN-SAT) to 0-6; `L` is the last day of the week (SAT). */
function parseDaysOfWeek(text: string): number[] | undefined {
  if (text === 'L') {
    return [6];
  }
  // `5L` (the month's last Thursday) and `3#2` (its second Tuesday) fire on that day of the week.
  const nth = /^([A-Z0-9]+)(?:L|#[1-5])$/i.exec(text);
  const days = parseField(nth ? nth[1] : text, 1, 7, DAY_NAMES, 1);
  return days?.map((d) => d - 1);
}

/** A problem with the schedule: an error (always wrong) or a warning (wrong when it happens). */
export interface ScheduleProblem {
  readonly error: boolean;
  readonly message: string;
}

/**
 * Whether a cron schedule starts runs inside the group's snapshot window or maintenance window.
 *
 * - Snapshot window: an **error**. ElastiCache takes the automatic snapshot in that window every day
 *   ("Scheduling automatic backups", ElastiCache user guide), and while a snapshot is taken the
 *   group's status is `snapshotting` and other operations on it, CreateSnapshot included, are refused
 *   with InvalidReplicationGroupState (see ELASTICACHE-FACTS; the manual-backup guide says the status
 *   "changes to snapshotting"). A run started there meets the group's own backup on most days: it
 *   waits through its retries, and fails when the backup outlasts them. There is no reason to choose
 *   such a time, and any time outside the window avoids it.
 * - Maintenance window: a **warning**. Maintenance is applied in that window only when there is some
 *   (critical updates, node replacements, changes deferred to the window: "Managing ElastiCache
 *   cluster maintenance" and "Service updates in ElastiCache"), so most weeks the run is unaffected;
 *   when there is, the group is modifying or a node is replaced under the snapshot. How
 *   CreateSnapshot fails during maintenance is not confirmed.
 */
export function scheduleWindowProblems(expression: string, groupPath: string, facts: GroupFacts): ScheduleProblem[] {
  const times = cronFireTimes(expression);
  if (!times) {
    return [];
  }
  const problems: ScheduleProblem[] = [];
  const snapshot = facts.snapshotWindow;
  if (snapshot) {
    const hit = firstInside(times, false, snapshot.range, MINUTES_PER_DAY);
    if (hit !== undefined) {
      problems.push({
        error: true,
        message: `schedule '${expression}' starts runs at ${clock(hit)} UTC, inside backup.window '${snapshot.text}' of replication group ${groupPath}; ElastiCache takes the group's automatic snapshot in that window every day, and while it runs the group is snapshotting and refuses CreateSnapshot (InvalidReplicationGroupState), so the run waits through its retries or fails: start the export outside the snapshot window`,
      });
    }
  }
  const maintenance = facts.maintenanceWindow;
  if (maintenance) {
    const hit = firstInside(times, true, maintenance.range, MINUTES_PER_WEEK);
    if (hit !== undefined) {
      problems.push({
        error: false,
        message: `schedule '${expression}' starts runs at ${DAY_NAMES[Math.floor(hit / MINUTES_PER_DAY)].toLowerCase()}:${clock(hit % MINUTES_PER_DAY)} UTC, inside maintenanceWindow '${maintenance.text}' of replication group ${groupPath}; when ElastiCache applies maintenance then (updates, node replacement), the group is busy and the run waits through its retries or fails: consider starting the export outside the maintenance window`,
      });
    }
  }
  return problems;
}

/** The first fire time (minute of the day, or of the week when `weekly`) inside `range`. */
function firstInside(times: FireTimes, weekly: boolean, range: WindowRange, period: number): number | undefined {
  const days = weekly ? times.weekdays : [0];
  for (const day of days) {
    for (const hour of times.hours) {
      for (const minute of times.minutes) {
        const t = day * MINUTES_PER_DAY + hour * 60 + minute;
        if ((t - range.start + period) % period < range.minutes) {
          return t;
        }
      }
    }
  }
  return undefined;
}

function clock(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}:${String(minuteOfDay % 60).padStart(2, '0')}`;
}
