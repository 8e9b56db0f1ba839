import { GatewayError, invalidApiKey } from "../errors";
import { formatResetDuration } from "./headers";
import type { Scope } from "./keys";
import type { PeriodKind } from "./periods";

/** The OpenAI SDKs read this and skip their automatic retries: waiting will not help. */
const NO_RETRY = { "x-should-retry": "false" };

const describeScope = (scope: Scope): string => `${scope.kind} ${scope.id}`;

const retryAfter = (ms: number): Record<string, string> => ({
  "retry-after": String(Math.max(1, Math.ceil(ms / 1000))),
});

const usd = (micros: number): string => `$${(micros / 1_000_000).toFixed(2)}`;

/** 429 for requests per minute, worded like OpenAI's. */
export function requestRateExceeded(
  scope: Scope,
  limit: number,
  resetMs: number,
  headers: Record<string, string>,
): GatewayError {
  return new GatewayError({
    status: 429,
    type: "rate_limit_error",
    message:
      `Rate limit reached for requests per min (RPM) on ${describeScope(scope)}: Limit ${limit}, Requested 1. ` +
      `Please try again in ${formatResetDuration(resetMs)}.`,
    code: "rate_limit_exceeded",
    headers: { ...headers, ...retryAfter(resetMs) },
  });
}

/** 429 for tokens per minute; a request larger than the whole limit can never pass and says so. */
export function tokenRateExceeded(
  scope: Scope,
  limit: number,
  used: number,
  requested: number,
  resetMs: number,
  headers: Record<string, string>,
): GatewayError {
  if (requested > limit) {
    return new GatewayError({
      status: 429,
      type: "rate_limit_error",
      message:
        `Request too large for tokens per min (TPM) on ${describeScope(scope)}: Limit ${limit}, Requested ${requested}. ` +
        "Reduce the prompt or max_tokens.",
      code: "rate_limit_exceeded",
      headers: { ...headers, ...NO_RETRY },
    });
  }
  return new GatewayError({
    status: 429,
    type: "rate_limit_error",
    message:
      `Rate limit reached for tokens per min (TPM) on ${describeScope(scope)}: Limit ${limit}, Used ${used}, ` +
      `Requested ${requested}. Please try again in ${formatResetDuration(resetMs)}.`,
    code: "rate_limit_exceeded",
    headers: { ...headers, ...retryAfter(resetMs) },
  });
}

/** 429 when the key already has as many requests in flight as it may. */
export function concurrencyExceeded(
  scope: Scope,
  limit: number,
  headers: Record<string, string>,
): GatewayError {
  return new GatewayError({
    status: 429,
    type: "rate_limit_error",
    message: `Too many concurrent requests on ${describeScope(scope)}: Limit ${limit}. Retry when one has finished.`,
    code: "concurrency_limit_exceeded",
    headers: { ...headers, ...retryAfter(1000) },
  });
}

/** 429 insufficient_quota when a budget cannot cover the request's worst-case cost. */
export function budgetExhausted(
  scope: Scope,
  period: PeriodKind,
  limitMicros: number,
  endsAt: number,
  now: number,
  headers: Record<string, string>,
): GatewayError {
  const name = period === "day" ? "daily" : "monthly";
  return new GatewayError({
    status: 429,
    type: "insufficient_quota",
    message:
      `You exceeded your current quota: the ${name} budget of ${describeScope(scope)} (${usd(limitMicros)}) ` +
      `cannot cover this request. It resets at ${new Date(endsAt).toISOString()}.`,
    code: "insufficient_quota",
    headers: { ...headers, ...retryAfter(endsAt - now), ...NO_RETRY },
  });
}

/** 503 when a check whose policy is `closed` cannot reach Redis. */
export function limitsUnavailable(
  check: "budgets" | "rate limits" | "key revocation" | "prepaid balance",
): GatewayError {
  return new GatewayError({
    status: 503,
    type: "server_error",
    message:
      `The gateway cannot check ${check} right now (its limits store is unreachable), so the request was refused. ` +
      "Please retry shortly.",
    code: "limits_unavailable",
    headers: retryAfter(1000),
  });
}

/** 401 for a key revoked by an operator; says no more than any other invalid key. */
export const keyRevoked = (): GatewayError => invalidApiKey("The API key has been revoked.");

/** 403 for every key of a suspended tenant: the key is valid, its tenant may not use it now. */
export const tenantSuspended = (): GatewayError =>
  new GatewayError({
    status: 403,
    type: "permission_error",
    message: "This API key's organization has been suspended. Contact the gateway's operator.",
    code: "tenant_suspended",
    headers: NO_RETRY,
  });

/** 402 insufficient_balance when a prepaid tenant's balance cannot cover the request's worst case. */
export function insufficientBalance(
  available: number,
  requested: number,
  headers: Record<string, string>,
): GatewayError {
  return new GatewayError({
    status: 402,
    type: "insufficient_quota",
    message:
      `Your prepaid balance (${usd(Math.max(0, available))}) cannot cover this request (up to ${usd(requested)}). ` +
      "Top up your balance to continue.",
    code: "insufficient_balance",
    headers: { ...headers, ...NO_RETRY },
  });
}
