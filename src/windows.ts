import { Duration, Token } from 'aws-cdk-lib';
import { MINUTES_PER_DAY, MINUTES_PER_WEEK, WindowRange } from './private/window-range';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * A day of the week, as ElastiCache writes it in a maintenance window.
 */
export enum DayOfWeek {
  /** Sunday */
  SUNDAY = 'sun',
  /** Monday */
  MONDAY = 'mon',
  /** Tuesday */
  TUESDAY = 'tue',
  /** Wednesday */
  WEDNESDAY = 'wed',
  /** Thursday */
  THURSDAY = 'thu',
  /** Friday */
  FRIDAY = 'fri',
  /** Saturday */
  SATURDAY = 'sat',
}

/**
 * Where a daily snapshot window starts, and how long it lasts.
 */
export interface SnapshotWindowOptions {
  /**
   * Hour of the day (UTC, 0-23) the window starts.
   */
  readonly hour: number;

  /**
   * Minute of the hour (0-59) the window starts.
   *
   * @default 0
   */
  readonly minute?: number;

  /**
   * How long the window lasts. ElastiCache needs at least 60 minutes, in whole minutes, shorter
   * than a day.
   *
   * @default Duration.hours(1)
   */
  readonly duration?: Duration;
}

/**
 * Where a weekly maintenance window starts, and how long it lasts.
 */
export interface MaintenanceWindowOptions extends SnapshotWindowOptions {
  /**
   * Day of the week (UTC) the window starts.
   */
  readonly day: DayOfWeek;
}

/**
 * The daily time range (UTC) during which ElastiCache takes automatic snapshots.
 *
 * ElastiCache writes it `hh24:mi-hh24:mi`, e.g. `05:00-06:00`; it must last at least 60 minutes and
 * must not overlap the maintenance window. A window may cross midnight (`23:30-00:30`).
 */
export class SnapshotWindow {
  /**
   * A window in ElastiCache's own format, `hh24:mi-hh24:mi` in UTC, e.g. `05:00-06:00`.
   *
   * The format and the 60-minute minimum are checked by the construct that receives the window, so
   * that the error can name the property it was given to. Tokens are passed through unchecked.
   */
  public static fromString(window: string): SnapshotWindow {
    return new SnapshotWindow(window, Token.isUnresolved(window) ? undefined : parseDaily(window));
  }

  /**
   * A window that starts at a time of day and lasts for a duration.
   *
   * @example SnapshotWindow.startingAt({ hour: 5, duration: Duration.hours(1) }) // '05:00-06:00'
   */
  public static startingAt(options: SnapshotWindowOptions): SnapshotWindow {
    const range = typedRange(options, 0);
    const end = range.problem ? 0 : (range.start + range.minutes) % MINUTES_PER_DAY;
    const text = range.problem ? describeOptions(options) : `${clock(range.start)}-${clock(end)}`;
    return new SnapshotWindow(text, range);
  }

  private constructor(
    /** The window as ElastiCache writes it. */
    private readonly text: string,
    private readonly parsed: ParseResult | undefined,
  ) {}

  /**
   * The window as ElastiCache writes it, e.g. `05:00-06:00`.
   */
  public toString(): string {
    return this.text;
  }

  /**
   * Checks the window and returns its range, or throws an error that names `prop`.
   * Returns `undefined` for a token.
   * @internal
   */
  public _validate(prop: string): WindowRange | undefined {
    return checkRange(this.parsed, prop, this.text, 'hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00', MINUTES_PER_DAY);
  }
}

/**
 * The weekly time range (UTC) during which ElastiCache may apply maintenance to a group.
 *
 * ElastiCache writes it `ddd:hh24:mi-ddd:hh24:mi`, e.g. `sun:23:00-mon:00:30`; it must last at
 * least 60 minutes and must not overlap the snapshot window.
 */
export class MaintenanceWindow {
  /**
   * A window in ElastiCache's own format, `ddd:hh24:mi-ddd:hh24:mi` in UTC, e.g.
   * `sun:23:00-mon:00:30`. Days are `sun`, `mon`, `tue`, `wed`, `thu`, `fri`, `sat`.
   *
   * The format and the 60-minute minimum are checked by the construct that receives the window, so
   * that the error can name the property it was given to. Tokens are passed through unchecked.
   */
  public static fromString(window: string): MaintenanceWindow {
    return new MaintenanceWindow(window, Token.isUnresolved(window) ? undefined : parseWeekly(window));
  }

  /**
   * A window that starts at a day and time and lasts for a duration.
   *
   * @example MaintenanceWindow.startingAt({ day: DayOfWeek.SUNDAY, hour: 23, duration: Duration.minutes(90) }) // 'sun:23:00-mon:00:30'
   */
  public static startingAt(options: MaintenanceWindowOptions): MaintenanceWindow {
    const dayIndex = DAYS.indexOf(options.day);
    const range = typedRange(options, dayIndex * MINUTES_PER_DAY);
    let text: string;
    if (range.problem) {
      text = `${options.day} ${describeOptions(options)}`;
    } else {
      const end = (range.start + range.minutes) % MINUTES_PER_WEEK;
      text = `${weekClock(range.start)}-${weekClock(end)}`;
    }
    return new MaintenanceWindow(text, range);
  }

  private constructor(
    private readonly text: string,
    private readonly parsed: ParseResult | undefined,
  ) {}

  /**
   * The window as ElastiCache writes it, e.g. `sun:23:00-mon:00:30`.
   */
  public toString(): string {
    return this.text;
  }

  /**
   * Checks the window and returns its range, or throws an error that names `prop`.
   * Returns `undefined` for a token.
   * @internal
   */
  public _validate(prop: string): WindowRange | undefined {
    return checkRange(this.parsed, prop, this.text, 'ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:00:30', MINUTES_PER_WEEK);
  }
}

interface ParseResult {
  readonly start: number;
  readonly minutes: number;
  /** Why the window is not valid, in words that follow "is ...". */
  readonly problem?: string;
}

function checkRange(parsed: ParseResult | undefined, prop: string, text: string, format: string, period: number): WindowRange | undefined {
  if (!parsed) {
    return undefined;
  }
  if (parsed.problem) {
    throw new Error(`${prop} '${text}' ${parsed.problem}; ElastiCache expects ${format}`);
  }
  if (parsed.minutes < 60) {
    throw new Error(`${prop} '${text}' is ${parsed.minutes} minutes long; ElastiCache needs a window of at least 60 minutes`);
  }
  if (parsed.minutes >= period) {
    throw new Error(`${prop} '${text}' lasts ${parsed.minutes} minutes; a window must end before it starts again (${period} minutes)`);
  }
  return { start: parsed.start, minutes: parsed.minutes };
}

function parseTime(hh: string, mm: string): number | undefined {
  const h = Number(hh);
  const m = Number(mm);
  if (h > 23 || m > 59) {
    return undefined;
  }
  return h * 60 + m;
}

function parseDaily(text: string): ParseResult {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  if (!match) {
    return { start: 0, minutes: 0, problem: 'is not in the format hh24:mi-hh24:mi' };
  }
  const start = parseTime(match[1], match[2]);
  const end = parseTime(match[3], match[4]);
  if (start === undefined || end === undefined) {
    return { start: 0, minutes: 0, problem: 'has a time outside 00:00-23:59' };
  }
  if (start === end) {
    return { start, minutes: 0, problem: 'starts and ends at the same time' };
  }
  return { start, minutes: (end - start + MINUTES_PER_DAY) % MINUTES_PER_DAY };
}

function parseWeekly(text: string): ParseResult {
  const match = /^([a-z]{3}):(\d{2}):(\d{2})-([a-z]{3}):(\d{2}):(\d{2})$/.exec(text);
  if (!match) {
    return { start: 0, minutes: 0, problem: 'is not in the format ddd:hh24:mi-ddd:hh24:mi' };
  }
  const startDay = DAYS.indexOf(match[1]);
  const endDay = DAYS.indexOf(match[4]);
  if (startDay < 0 || endDay < 0) {
    return { start: 0, minutes: 0, problem: `has a day that is not one of ${DAYS.join(', ')}` };
  }
  const startTime = parseTime(match[2], match[3]);
  const endTime = parseTime(match[5], match[6]);
  if (startTime === undefined || endTime === undefined) {
    return { start: 0, minutes: 0, problem: 'has a time outside 00:00-23:59' };
  }
  const start = startDay * MINUTES_PER_DAY + startTime;
  const end = endDay * MINUTES_PER_DAY + endTime;
  if (start === end) {
    return { start, minutes: 0, problem: 'starts and ends at the same time' };
  }
  return { start, minutes: (end - start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK };
}

function typedRange(options: SnapshotWindowOptions, offset: number): ParseResult {
  const minute = options.minute ?? 0;
  const duration = options.duration ?? Duration.hours(1);
  if (!Number.isInteger(options.hour) || options.hour < 0 || options.hour > 23) {
    return { start: 0, minutes: 0, problem: `has hour ${options.hour}, which is not a whole hour from 0 to 23` };
  }
  if (!Number.isInteger(minute) || minute < 0 || minute > 59) {
    return { start: 0, minutes: 0, problem: `has minute ${minute}, which is not a whole minute from 0 to 59` };
  }
  if (duration.isUnresolved()) {
    return { start: 0, minutes: 0, problem: 'has a duration that is a token; windows must be known at synth time' };
  }
  const minutes = duration.toMinutes({ integral: false });
  if (!Number.isInteger(minutes)) {
    return { start: 0, minutes: 0, problem: `lasts ${duration.toHumanString()}, which is not a whole number of minutes` };
  }
  return { start: offset + options.hour * 60 + minute, minutes };
}

function describeOptions(options: SnapshotWindowOptions): string {
  const duration = options.duration ?? Duration.hours(1);
  const durationText = duration.isUnresolved() ? '<token>' : duration.toHumanString();
  return `starting at hour ${options.hour} minute ${options.minute ?? 0} for ${durationText}`;
}

function clock(minuteOfDay: number): string {
  const h = Math.floor(minuteOfDay / 60);
  const m = minuteOfDay % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

function weekClock(minuteOfWeek: number): string {
  const day = Math.floor(minuteOfWeek / MINUTES_PER_DAY);
  return `${DAYS[day]}:${clock(minuteOfWeek % MINUTES_PER_DAY)}`;
}
