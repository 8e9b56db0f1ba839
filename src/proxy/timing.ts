/**
 * The gateway's own phases for the `Server-Timing` header: auth, limits, routing, the upstream's
 * time to first byte, and the total overhead the gateway added on top of the upstream.
 */
export class ServerTiming {
  private readonly phases: [string, number][] = [];
  private upstreamTtfb: number | null = null;
  private overhead = 0;

  constructor(
    private readonly now: () => number,
    private readonly startedAt: number,
  ) {}

  /** Times an async step under `name`. */
  async measure<T>(name: string, step: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await step();
    } finally {
      this.phases.push([name, this.now() - started]);
    }
  }

  /** Starts timing `name` by hand, for steps that are not a single await. */
  start(name: string): { end(): void } {
    const started = this.now();
    return { end: () => this.phases.push([name, this.now() - started]) };
  }

  /** Closes the books once the answer starts: overhead = time so far minus the upstream's share. */
  endOverhead(upstreamTtfbMs: number | null): void {
    this.upstreamTtfb = upstreamTtfbMs;
    this.overhead = Math.max(0, this.now() - this.startedAt - (upstreamTtfbMs ?? 0));
  }

  header(): string {
    const entries = this.phases.map(([name, ms]) => `${name};dur=${ms}`);
    if (this.upstreamTtfb !== null)
      entries.push(`upstream;desc="time to first byte";dur=${this.upstreamTtfb}`);
    entries.push(`overhead;dur=${this.overhead}`);
    return entries.join(", ");
  }
}
