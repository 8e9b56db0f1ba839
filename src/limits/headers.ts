/** OpenAI's rate-limit headers, sent on every response that went through the gate. */

/** One dimension (requests or tokens) of the tightest limit that applied. */
export interface RateView {
  limit: number;
  remaining: number;
  /** Ms until the limit's current window ends. */
  resetMs: number;
}

/**
 * Formats a duration the way OpenAI's `x-ratelimit-reset-*` headers do (Go duration style).
 * @example formatResetDuration(1000) // "1s"; formatResetDuration(360_000) // "6m0s"; formatResetDuration(20) // "20ms"
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${Number(((total % 60_000) / 1000).toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

/**
 * The `x-ratelimit-*` headers for the tightest request and token limits (a dimension without a
 * limit is left out).
 * @example rateLimitHeaders({ limit: 60, remaining: 59, resetMs: 1000 }, null)
 */
export function rateLimitHeaders(requests: RateView | null, tokens: RateView | null): Record<string, string> {
  const headers: Record<string, string> = {};
  if (requests) {
    headers["x-ratelimit-limit-requests"] = String(requests.limit);
    headers["x-ratelimit-remaining-requests"] = String(Math.max(0, requests.remaining));
    headers["x-ratelimit-reset-requests"] = formatResetDuration(requests.resetMs);
  }
  if (tokens) {
    headers["x-ratelimit-limit-tokens"] = String(tokens.limit);
    headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tokens.remaining));
    headers["x-ratelimit-reset-tokens"] = formatResetDuration(tokens.resetMs);
  }
  return headers;
}

/** Of several limits on one dimension, the one with the least room left. */
export function tightest(views: (RateView | null)[]): RateView | null {
  let best: RateView | null = null;
  for (const view of views) if (view && (!best || view.remaining < best.remaining)) best = view;
  return best;
}
