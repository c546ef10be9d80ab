export const MINUTES_PER_DAY = 24 * 60;
export const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/**
 * A parsed window: where it starts, in minutes from the start of its period, and how long it lasts.
 * `undefined` when the window is a token.
 */
export interface WindowRange {
  readonly start: number;
  readonly minutes: number;
}

/**
 * Whether a daily snapshot window and a weekly maintenance window share any minute of the week.
 * Windows that only touch (one ends when the other starts) do not overlap.
 */
export function windowsOverlap(snapshot: WindowRange, maintenance: WindowRange): boolean {
  for (let day = 0; day < 7; day++) {
    const start = day * MINUTES_PER_DAY + snapshot.start;
    // Compare on the weekly circle: shift each interval by a week either way so that windows that
    // wrap past the end of Saturday are seen.
    for (const shift of [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK]) {
      const s = start + shift;
      if (s < maintenance.start + maintenance.minutes && maintenance.start < s + snapshot.minutes) {
        return true;
      }
    }
  }
  return false;
}

