import type { TargetConfig } from "../config";
import { backoffDelay, type FailureKind } from "./retry";

/** How one attempt at one target ended. */
export type AttemptOutcome<T> =
  | { ok: true; value: T }
  | { ok: false; kind: FailureKind; retryAfterMs: number | null; failure: T };

export interface FallbackOptions {
  /** Extra attempts on the same target for a retryable failure. */
  retries: number;
  /** Skips a target whose breaker is open; called right before its first attempt. */
  isAvailable: (target: TargetConfig) => boolean;
  /** Reports every attempt's result, for the breaker and logs. */
  onOutcome: (target: TargetConfig, ok: boolean, kind: FailureKind | null) => void;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface FallbackResult<T> {
  /** The success, or the last failure when every target failed (null if none was tried). */
  result: AttemptOutcome<T> | null;
  target: TargetConfig | null;
  attempts: number;
}

/**
 * Tries targets in order with retries, backoff and Retry-After; stops at the first success or at
 * a failure that is the caller's own (never retried, never sent elsewhere). Knows nothing of wire
 * formats: `attempt` does the call and classifies its failure.
 * @example await runWithFallback(orderTargets(route), (t) => callUpstream(t), options)
 */
export async function runWithFallback<T>(
  targets: TargetConfig[],
  attempt: (target: TargetConfig, attemptNumber: number) => Promise<AttemptOutcome<T>>,
  options: FallbackOptions,
): Promise<FallbackResult<T>> {
  let last: FallbackResult<T> = { result: null, target: null, attempts: 0 };
  let attempts = 0;
  for (const target of targets) {
    if (!options.isAvailable(target)) continue;
    for (let retry = 0; retry <= options.retries; retry++) {
      attempts++;
      const outcome = await attempt(target, attempts);
      options.onOutcome(target, outcome.ok, outcome.ok ? null : outcome.kind);
      last = { result: outcome, target, attempts };
      if (outcome.ok || outcome.kind === "caller") return last;
      if (outcome.kind === "provider_auth" || outcome.kind === "unsupported" || retry === options.retries)
        break;
      const delay = backoffDelay(retry, outcome.retryAfterMs, options.random);
      if (delay === null) break;
      await options.sleep(delay);
    }
  }
  return last;
}
