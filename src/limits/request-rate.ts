import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis/cloudflare";
import { RPM_PREFIX, rpmIdentifier, type Scope } from "./keys";
import type { ScriptRunner } from "./script-runner";

/** Outcome of one request-rate check. */
export interface RateResult {
  success: boolean;
  limit: number;
  remaining: number;
  /** Ms since the epoch when the current window ends (the library's clock). */
  reset: number;
}

/** Window of the request rate: requests per minute. */
const MINUTE = "60 s";

/**
 * Requests per minute per scope with @upstash/ratelimit's sliding window. One limiter per distinct
 * limit value (the library fixes the limit per instance), all sharing the key prefix.
 */
export class RequestRate {
  private readonly limiters = new Map<number, Ratelimit>();

  private readonly redis: Redis;

  /** `runner` takes the library's only commands (EVALSHA, then EVAL on NOSCRIPT). */
  constructor(runner: ScriptRunner) {
    this.redis = runner as unknown as Redis;
  }

  /** Takes one request from the scope's window; the Redis command is queued before this returns. */
  take(scope: Scope, rpm: number): Promise<RateResult> {
    return this.limiter(rpm).limit(rpmIdentifier(scope));
  }

  /** Gives back a request taken by a refused admission. */
  async refund(scope: Scope, rpm: number): Promise<void> {
    await this.limiter(rpm).limit(rpmIdentifier(scope), { rate: -1 });
  }

  private limiter(rpm: number): Ratelimit {
    let limiter = this.limiters.get(rpm);
    if (!limiter) {
      limiter = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.slidingWindow(rpm, MINUTE),
        prefix: RPM_PREFIX,
        // The gate applies its own deadline and failure policy; the library's timeout would allow silently.
        timeout: 0,
        // A local block cache would skip Redis but the gate's script goes anyway, and it grows unbounded.
        ephemeralCache: false,
        analytics: false,
        enableTelemetry: false,
      });
      this.limiters.set(rpm, limiter);
    }
    return limiter;
  }
}
