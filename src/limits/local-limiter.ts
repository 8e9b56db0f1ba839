/**
 * The in-isolate fallback used while Redis is unreachable and the policy says `open`: an
 * approximate sliding window per counter and a leased in-flight set per key. Each isolate counts
 * on its own, so across N isolates up to N times the limit can pass: approximate by design.
 */

/** Outcome of a local take. */
export interface LocalTake {
  ok: boolean;
  remaining: number;
  /** Ms until the current window ends. */
  resetMs: number;
}

interface Window {
  index: number;
  current: number;
  previous: number;
}

/** Counters kept at most; the oldest go first, so memory stays bounded whatever the traffic. */
const MAX_ENTRIES = 10_000;

export class LocalLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly inflight = new Map<string, Map<string, number>>();

  constructor(private readonly windowMs = 60_000) {}

  /** Takes `amount` from the counter `id` if that keeps it within `limit`. */
  take(id: string, limit: number, amount: number, now: number): LocalTake {
    const window = this.window(id, now);
    const weight = (this.windowMs - (now % this.windowMs)) / this.windowMs;
    const used = window.current + Math.floor(window.previous * weight);
    const resetMs = this.windowMs - (now % this.windowMs);
    if (used + amount > limit) return { ok: false, remaining: Math.max(0, limit - used), resetMs };
    window.current += amount;
    return { ok: true, remaining: Math.max(0, limit - used - amount), resetMs };
  }

  /** Gives back what a refused or settled request took. */
  give(id: string, amount: number, now: number): void {
    const window = this.window(id, now);
    window.current = Math.max(0, window.current - amount);
  }

  /** Takes an in-flight slot of `id` for `member` until `leaseEnd` (ms), if fewer than `limit` are taken. */
  acquire(id: string, member: string, limit: number, now: number, leaseEnd: number): boolean {
    let slots = this.inflight.get(id);
    if (!slots) {
      slots = new Map();
      this.inflight.set(id, slots);
      this.trim(this.inflight);
    }
    for (const [held, until] of slots) if (until <= now) slots.delete(held);
    if (slots.size >= limit) return false;
    slots.set(member, leaseEnd);
    return true;
  }

  /** Frees the slot `member` holds, if any. */
  release(id: string, member: string): void {
    const slots = this.inflight.get(id);
    slots?.delete(member);
    if (slots?.size === 0) this.inflight.delete(id);
  }

  private window(id: string, now: number): Window {
    const index = Math.floor(now / this.windowMs);
    let window = this.windows.get(id);
    if (!window || window.index < index - 1) {
      window = { index, current: 0, previous: 0 };
      this.windows.set(id, window);
      this.trim(this.windows);
    } else if (window.index === index - 1) {
      window.previous = window.current;
      window.current = 0;
      window.index = index;
    }
    return window;
  }

  private trim(map: Map<string, unknown>): void {
    for (const key of map.keys()) {
      if (map.size <= MAX_ENTRIES) return;
      map.delete(key);
    }
  }
}
