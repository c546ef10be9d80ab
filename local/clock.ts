/**
 * The local provider's clock. Simulated time runs `speed` times faster than real time, and can be
 * moved forward at will (`advance`), so that operations that take minutes in AWS take a scaled,
 * configurable time here, and days of automatic snapshots pass in a test.
 */
export class Clock {
  private readonly realStart = Date.now();
  private offset = 0;
  private readonly listeners: Array<(from: number, to: number) => Promise<void>> = [];
  /** The simulated time up to which listeners have been told time passed. */
  private notified: number;
  /** Listener runs, one after the other: each reports the time since the previous one. */
  private queue: Promise<void> = Promise.resolve();
  private ticker?: NodeJS.Timeout;

  /**
   * @param start the simulated time at which the clock starts (ms since the epoch)
   * @param speed simulated milliseconds per real millisecond
   */
  constructor(private readonly start: number = Date.now(), public readonly speed: number = 1) {
    if (!(speed > 0)) {
      throw new Error(`Clock speed must be positive, got ${speed}`);
    }
    this.notified = start;
  }

  /** The simulated time, in ms since the epoch. */
  public now(): number {
    return this.start + (Date.now() - this.realStart) * this.speed + this.offset;
  }

  /** The simulated time as a Date. */
  public date(): Date {
    return new Date(this.now());
  }

  /** How many real milliseconds `simulatedMs` of simulated time take. */
  public real(simulatedMs: number): number {
    return simulatedMs / this.speed;
  }

  /**
   * Registers work to run as simulated time passes (e.g. automatic snapshots that fall due): for
   * each jump of the clock, and, while the clock ticks, for the time that ran by in between. Each
   * run gets (from, to] following the previous run's, so no moment is reported twice or skipped.
   */
  public onAdvance(listener: (from: number, to: number) => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** Moves simulated time forward by `ms` and runs what fell due in between. */
  public async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) {
      throw new Error(`Clock.advance needs a non-negative duration, got ${ms}`);
    }
    this.offset += ms;
    await this.notify();
  }

  /**
   * Lets real time drive the listeners too: every `intervalMs` real milliseconds they are told the
   * simulated time that has passed (the provider run as a process, where nobody calls `advance`).
   */
  public tick(intervalMs = 250): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => void this.notify().catch(() => undefined), intervalMs);
    this.ticker.unref();
  }

  /** Stops ticking (a listener run under way goes on). */
  public stopTicking(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private notify(): Promise<void> {
    const run = this.queue.catch(() => undefined).then(async () => {
      const from = this.notified;
      const to = this.now();
      if (to <= from) return;
      this.notified = to;
      for (const listener of this.listeners) {
        await listener(from, to);
      }
    });
    this.queue = run;
    return run;
  }
}
