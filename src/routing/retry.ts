/** How an upstream failure affects routing. */
export type FailureKind =
  /** Try again (same target after backoff, then the next one): network, timeout, 408, 429, 5xx. */
  | "retryable"
  /** The provider's credentials are the problem (401/403): move to the next target, don't retry. */
  | "provider_auth"
  /** The caller's own mistake (400/404/422...): return it as it is, never fall back. */
  | "caller"
  /** This target cannot serve the request (e.g. embeddings on Anthropic): move on, no retry, not a health signal. */
  | "unsupported";

/** Classifies an upstream HTTP status; 2xx never reaches here. */
export function classifyStatus(status: number): FailureKind {
  if (status === 408 || status === 429 || status >= 500) return "retryable";
  if (status === 401 || status === 403) return "provider_auth";
  return "caller";
}

/** Longest wait the gateway accepts before retrying the same target; beyond it, move on. */
export const MAX_RETRY_WAIT_MS = 2_000;
const BASE_DELAY_MS = 100;

/**
 * Exponential backoff with full jitter, honouring Retry-After when the upstream gave one.
 * Returns null when the upstream asks for a wait longer than the cap: better to try another target.
 * @example backoffDelay(0, null, Math.random) // 0..100 ms
 */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | null,
  random: () => number,
): number | null {
  if (retryAfterMs !== null) return retryAfterMs <= MAX_RETRY_WAIT_MS ? retryAfterMs : null;
  return Math.round(random() * Math.min(MAX_RETRY_WAIT_MS, BASE_DELAY_MS * 2 ** attempt));
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
