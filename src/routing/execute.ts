import type { TargetConfig } from "../config";
import { backoffDelay, type FailureKind } from "./retry";

/** A failed attempt: how routing should treat it, and the failure `F` to report if it is the last. */
export interface AttemptFailure<F> {
  ok: false;
  kind: FailureKind;
  retryAfterMs: number | null;
  failure: F;
}

/** How one attempt at one target ended: its answer `A`, or a classified failure `F`. */
export type AttemptOutcome<A, F> = { ok: true; value: A } | AttemptFailure<F>;

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

/**
 * How the whole fallback ended, with the target of the last attempt. On failure, `failure` is the
 * one to report: the last failure of a target that got further than refusing the feature
 * (`unsupported` is the answer only when every target refused), or null when no target was tried.
 */
export type FallbackResult<A, F> =
  | { ok: true; value: A; target: TargetConfig; attempts: number }
  | { ok: false; failure: F; target: TargetConfig; attempts: number }
  | { ok: false; failure: null; target: null; attempts: 0 };

/**
 * Tries targets in order with retries, backoff and Retry-After; stops at the first success or at
 * a failure that is the caller's own (never retried, never sent elsewhere). Knows nothing of wire
 * formats: `attempt` does the call and classifies its failure.
 * @example const result = await runWithFallback(orderTargets(route), (t) => callUpstream(t), options)
 */
export async function runWithFallback<A, F>(
  targets: TargetConfig[],
  attempt: (target: TargetConfig, attemptNumber: number) => Promise<AttemptOutcome<A, F>>,
  options: FallbackOptions,
): Promise<FallbackResult<A, F>> {
  let attempts = 0;
  let last: { target: TargetConfig; failure: F } | null = null;
  let served: F | null = null;
  for (const target of targets) {
    if (!options.isAvailable(target)) continue;
    for (let retry = 0; ; retry++) {
      attempts++;
      const outcome = await attempt(target, attempts);
      options.onOutcome(target, outcome.ok, outcome.ok ? null : outcome.kind);
      if (outcome.ok) return { ok: true, value: outcome.value, target, attempts };
      if (outcome.kind === "caller") return { ok: false, failure: outcome.failure, target, attempts };
      last = { target, failure: outcome.failure };
      if (outcome.kind !== "unsupported") served = outcome.failure;
      if (!(await waitToRetry(outcome, retry, options))) break;
    }
  }
  if (!last) return { ok: false, failure: null, target: null, attempts: 0 };
  return { ok: false, failure: served ?? last.failure, target: last.target, attempts };
}

/**
 * Waits before trying the same target again; false when it should not be tried again: its
 * credentials or features are the problem, its retries are spent, or it asks for too long a wait.
 */
async function waitToRetry(
  failure: AttemptFailure<unknown>,
  retry: number,
  options: FallbackOptions,
): Promise<boolean> {
  if (failure.kind === "provider_auth" || failure.kind === "unsupported" || retry >= options.retries)
    return false;
  const delay = backoffDelay(retry, failure.retryAfterMs, options.random);
  if (delay === null) return false;
  await options.sleep(delay);
  return true;
}
