import type { BreakerConfig } from "../config";

type State = { phase: "closed" } | { phase: "open"; until: number } | { phase: "probing"; since: number };

interface TargetHealth {
  state: State;
  /** Outcomes inside the sliding window, oldest first. */
  outcomes: { at: number; ok: boolean }[];
}

/** What a recorded outcome changed, so the caller can publish it to the shared state in Redis. */
export type BreakerTransition = { opened: true; until: number } | { closed: true } | null;

/** Redis key holding a target's shared "open until" time (ms since epoch). */
export const breakerRedisKey = (target: string): string => `sluice:breaker:${target}`;

/** Outcomes kept per target: bounds memory however busy the target is. */
const MAX_OUTCOMES = 512;

/**
 * Per-target circuit breakers. The error rate over a sliding window opens a target; it is skipped
 * for a cooldown, then exactly one probe decides. Each isolate keeps its own copy; an opening is
 * shared through Redis (read with the limits round trip, written in waitUntil), so one isolate's
 * verdict reaches every instance without a round trip of its own.
 */
export class CircuitBreakers {
  private readonly targets = new Map<string, TargetHealth>();

  constructor(
    private readonly config: BreakerConfig,
    private readonly now: () => number,
  ) {}

  /** True when the target may be tried now; in half-open state only the first caller gets true. */
  tryAcquire(target: string): boolean {
    const health = this.health(target);
    const now = this.now();
    const { state } = health;
    if (state.phase === "closed") return true;
    if (state.phase === "open" && now < state.until) return false;
    // A probe that never reported (its isolate path crashed) must not block the target forever.
    if (state.phase === "probing" && now - state.since < this.config.cooldown_seconds * 1000) return false;
    health.state = { phase: "probing", since: now };
    return true;
  }

  /** Records an attempt's outcome; returns the transition to publish, if any. */
  record(target: string, ok: boolean): BreakerTransition {
    const health = this.health(target);
    const now = this.now();
    if (health.state.phase === "probing") {
      if (ok) return this.close(health);
      return this.open(health, now);
    }
    if (health.state.phase === "open") return null;
    health.outcomes.push({ at: now, ok });
    if (health.outcomes.length > MAX_OUTCOMES) health.outcomes.shift();
    const windowStart = now - this.config.window_seconds * 1000;
    while (health.outcomes.length > 0 && (health.outcomes[0]?.at ?? now) < windowStart)
      health.outcomes.shift();
    const failures = health.outcomes.filter((o) => !o.ok).length;
    const total = health.outcomes.length;
    if (total >= this.config.min_requests && failures / total >= this.config.failure_ratio) {
      return this.open(health, now);
    }
    return null;
  }

  /** Applies the shared state read from Redis: an opening published by another instance. */
  applyShared(target: string, openUntil: string | null): void {
    if (openUntil === null) return;
    const until = Number(openUntil);
    const health = this.health(target);
    if (health.state.phase === "closed" && Number.isFinite(until) && until > this.now()) {
      health.state = { phase: "open", until };
    }
  }

  /** The current phase, for headers and tests. */
  phase(target: string): State["phase"] {
    const state = this.health(target).state;
    return state.phase === "open" && this.now() >= state.until ? "probing" : state.phase;
  }

  private open(health: TargetHealth, now: number): BreakerTransition {
    const until = now + this.config.cooldown_seconds * 1000;
    health.state = { phase: "open", until };
    health.outcomes = [];
    return { opened: true, until };
  }

  private close(health: TargetHealth): BreakerTransition {
    health.state = { phase: "closed" };
    health.outcomes = [];
    return { closed: true };
  }

  private health(target: string): TargetHealth {
    let health = this.targets.get(target);
    if (!health) {
      health = { state: { phase: "closed" }, outcomes: [] };
      this.targets.set(target, health);
    }
    return health;
  }
}
