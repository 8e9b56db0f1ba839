/**
 * Notices a wait (an upstream read) that lasts longer than `timeoutMs`, with ONE timer per stream
 * that re-arms lazily from the time the current wait began, instead of a timer set and cleared
 * around every read: with nodejs_compat each of those is a Node `Timeout` object, several
 * microseconds of CPU per relayed chunk. Time spent while no wait is open (the client has not
 * asked for more) never counts.
 * @example const watchdog = new IdleWatchdog(30_000, () => reader.cancel()); watchdog.begin(); await reader.read(); watchdog.end()
 */
export class IdleWatchdog {
  /** Set once a wait outlasted the timeout (and `onIdle` ran). */
  fired = false;
  private waitingSince: number | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
  ) {}

  /** A wait starts now. */
  begin(): void {
    this.waitingSince = Date.now();
    if (this.timer === undefined && !this.fired) this.arm(this.timeoutMs);
  }

  /** The wait ended (the timer stays armed for the next one). */
  end(): void {
    this.waitingSince = null;
  }

  /** One watched wait: what `read` gave, or "idle" when the watchdog cut it short, "error" when it failed. */
  async watch<T extends object>(read: () => Promise<T>): Promise<T | "idle" | "error"> {
    this.begin();
    try {
      const result = await read();
      this.end();
      return this.fired ? "idle" : result;
    } catch {
      this.end();
      return this.fired ? "idle" : "error";
    }
  }

  /** No more waits: drops the timer. */
  stop(): void {
    this.waitingSince = null;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = undefined;
    // No wait open: the next begin() re-arms.
    if (this.waitingSince === null) return;
    const waited = Date.now() - this.waitingSince;
    if (waited < this.timeoutMs) {
      this.arm(this.timeoutMs - waited);
      return;
    }
    this.fired = true;
    this.onIdle();
  }
}
