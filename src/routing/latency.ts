/** Redis key holding a target's shared latency estimate: `<ewma ms>:<sampled at ms>`. */
export const latencyRedisKey = (target: string): string => `sluice:latency:${target}`;

/** Weight of the newest sample: a changed latency dominates after a handful of requests. */
const ALPHA = 0.3;

interface Estimate {
  /** Exponentially weighted moving average of the time to first byte, in ms. */
  ewma: number;
  /** When the newest sample that went into it was taken (ms since epoch). */
  at: number;
}

/**
 * Recent latency per target (time to the upstream's first byte: for a JSON answer, the whole
 * answer), an exponentially weighted moving average kept per isolate. Estimates travel between
 * isolates like breaker openings: published with the settlement batches (see
 * createLatencyPublisher) and read back with the gate's round trip, where the freshest estimate
 * wins (it saw the newest sample).
 * @example tracker.record("openai/gpt-4o-mini", 320); tracker.estimate("openai/gpt-4o-mini") // 320
 */
export class LatencyTracker {
  private readonly estimates = new Map<string, Estimate>();
  /** Targets measured since the last publication. */
  private pending = new Set<string>();

  constructor(private readonly now: () => number) {}

  /** Adds one successful attempt's latency. */
  record(target: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const current = this.estimates.get(target);
    const ewma = current ? current.ewma + ALPHA * (ms - current.ewma) : ms;
    this.estimates.set(target, { ewma, at: this.now() });
    this.pending.add(target);
  }

  /** Adopts another isolate's estimate when it rests on a newer sample than this isolate's. */
  applyShared(target: string, value: string | null): void {
    if (value === null) return;
    const [ewma, at] = value.split(":").map(Number);
    if (!Number.isFinite(ewma) || !Number.isFinite(at) || (ewma as number) < 0) return;
    const current = this.estimates.get(target);
    if (current && current.at >= (at as number)) return;
    this.estimates.set(target, { ewma: ewma as number, at: at as number });
  }

  /** The target's estimate in ms; null when it was never measured (here or, as far as read, elsewhere). */
  estimate(target: string): number | null {
    return this.estimates.get(target)?.ewma ?? null;
  }

  /** When the target was last measured; -Infinity when never. */
  sampledAt(target: string): number {
    return this.estimates.get(target)?.at ?? Number.NEGATIVE_INFINITY;
  }

  /** The estimates measured since the last call, as Redis values to publish; empties the list. */
  takePending(): { target: string; value: string }[] {
    const taken: { target: string; value: string }[] = [];
    for (const target of this.pending) {
      const estimate = this.estimates.get(target);
      if (estimate) taken.push({ target, value: `${Math.round(estimate.ewma)}:${estimate.at}` });
    }
    this.pending = new Set();
    return taken;
  }
}
