/**
 * The local provider's clock. Simulated time runs `speed` times faster than real time, and can be
 * moved forward at will (`advance`), so that operations that take minutes in AWS take a scaled,
 * configurable time here, and days of automatic snapshots pass in a test.
 */
export class Clock {
  private readonly realStart = Date.now();
  private offset = 0;
  private readonly listeners: Array<(from: number, to: number) => Promise<void>> = [];

  /**
   * @param start the simulated time at which the clock starts (ms since the epoch)
   * @param speed simulated milliseconds per real millisecond
   */
  constructor(private readonly start: number = Date.now(), public readonly speed: number = 1) {
    if (!(speed > 0)) {
      throw new Error(`Clock speed must be positive, got ${speed}`);
    }
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

  /** Registers work to run for each jump of the clock (e.g. automatic snapshots that fall due). */
  public onAdvance(listener: (from: number, to: number) => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** Moves simulated time forward by `ms` and runs what fell due in between. */
  public async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) {
      throw new Error(`Clock.advance needs a non-negative duration, got ${ms}`);
    }
    const from = this.now();
    this.offset += ms;
    const to = this.now();
    for (const listener of this.listeners) {
      await listener(from, to);
    }
  }
}
