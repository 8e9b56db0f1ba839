import type { Redis } from "@upstash/redis/cloudflare";
import type { Config, FailurePolicy } from "../config";
import type { GatewayError } from "../errors";
import {
  budgetExhausted,
  concurrencyExceeded,
  keyRevoked,
  limitsUnavailable,
  requestRateExceeded,
  tokenRateExceeded,
} from "./denials";
import { type RateView, rateLimitHeaders, tightest } from "./headers";
import { LocalLimiter } from "./local-limiter";
import { LuaScript } from "./lua";
import { type RateResult, RequestRate } from "./request-rate";
import {
  type AdmitReply,
  admitArgs,
  parseAdmitReply,
  planReservation,
  type Reservation,
  settleArgs,
  TOKEN_WINDOW_MS,
} from "./reservation";
import { type EffectiveLimits, resolveLimits, type ScopeRates } from "./resolve";
import { ADMIT_SCRIPT, SETTLE_SCRIPT } from "./scripts";
import type { Admission, AdmissionRequest, Gate } from "./types";

export type LimitsLog = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface GateOptions {
  /** An @upstash/redis client with auto-pipelining (see createLimitsRedis). */
  redis: Redis;
  config: Config;
  /** Ms since the epoch; injectable so tests control budget periods, windows and leases. */
  now?: () => number;
  log?: LimitsLog;
  /** Longest wait for the round trip before the failure policy applies. Default 1000 ms. */
  timeoutMs?: number;
  /** How long an in-flight slot stays held by a request that never settles. Default 5 minutes. */
  leaseMs?: number;
}

/**
 * The limits gate: before the upstream call, ONE Redis round trip decides revocation, request
 * rate (per key and per tenant), token rate, dollar budgets (key and tenant, UTC day and month)
 * and concurrency, and reads the shared breaker state. Every command is issued in the same tick,
 * so @upstash/redis auto-pipelining sends them as one /pipeline request: one Lua script
 * (revocation, breakers, concurrency, tokens, budgets: atomic, all-or-nothing) and one
 * @upstash/ratelimit sliding-window call per request-rate limit. A request refused by any check
 * has everything the others took given back, in the background, so it costs nothing.
 *
 * Failure policy (`config.failure_policy`), applied per check when Redis cannot be reached
 * (an error, or no answer within `timeoutMs`):
 * - `rate_limits` (requests, tokens, concurrency), default `open`: the request is checked by an
 *   in-isolate approximate limiter instead (each isolate counts alone, so the effective limit is
 *   multiplied by the number of isolates until Redis is back); `closed` refuses with 503.
 * - `budgets`, default `closed`: a request that any dollar budget applies to is refused with
 *   503 `limits_unavailable` and `Retry-After: 1`, never overspent; `open` lets it through, and its
 *   real cost is still added to the counters at settlement if Redis is back by then.
 * - `revocation`, default `open`: the key's signature was verified, so it passes; `closed`
 *   refuses with 503.
 * The gate never throws for a Redis failure and never waits longer than `timeoutMs`.
 *
 * @example
 * const gate = createGate({ redis: createLimitsRedis({ url, token }), config })
 * const admission = await gate.admit({ caller, requestId, estimatedTokens, worstCaseMicros, breakerKeys: [] })
 * if (admission.error) return errorResponse(admission.error)
 * ctx.waitUntil(admission.settle({ tokens: usage.total, costMicros }))
 */
export function createGate(opts: GateOptions): Gate {
  const deps: Deps = {
    config: opts.config,
    policy: opts.config.failure_policy,
    now: opts.now ?? Date.now,
    log: opts.log ?? (() => {}),
    timeoutMs: opts.timeoutMs ?? 1000,
    leaseMs: opts.leaseMs ?? 300_000,
    admitScript: new LuaScript(opts.redis, ADMIT_SCRIPT),
    settleScript: new LuaScript(opts.redis, SETTLE_SCRIPT),
    requestRate: new RequestRate(opts.redis),
    local: new LocalLimiter(TOKEN_WINDOW_MS),
  };
  return { admit: (request) => admit(deps, request) };
}

interface Deps {
  config: Config;
  policy: FailurePolicy;
  now: () => number;
  log: LimitsLog;
  timeoutMs: number;
  leaseMs: number;
  admitScript: LuaScript;
  settleScript: LuaScript;
  requestRate: RequestRate;
  local: LocalLimiter;
}

/** A check's answer from Redis: its value, its error, or nothing yet when the deadline passed. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A refusal and how much it outranks others: the most lasting reason is the one reported. */
interface Denial {
  rank: number;
  error: () => GatewayError;
}

const RANK = { revoked: 0, unavailable: 1, budget: 2, requests: 3, tokens: 4, concurrency: 5 } as const;

/** What was taken from the local fallback, to give back on refusal or settlement. */
interface LocalTakes {
  requests: string[];
  tokens: string[];
  slot: string | null;
}

async function admit(deps: Deps, request: AdmissionRequest): Promise<Admission> {
  const now = deps.now();
  const limits = resolveLimits(deps.config, request.caller);
  const reservation = planReservation({
    limits,
    keyId: request.caller.keyId,
    // Our own id: a client-chosen request id could collide and share a slot.
    id: crypto.randomUUID(),
    now,
    leaseMs: deps.leaseMs,
    tokens: request.estimatedTokens,
    micros: request.worstCaseMicros,
    breakerKeys: request.breakerKeys,
  });

  // The one round trip: every command below is queued in this tick, before the first await.
  const { keys, args } = admitArgs(reservation);
  const script = deps.admitScript.run<unknown>(keys, args).then(parseAdmitReply);
  const rated = limits.rates.filter((r): r is ScopeRates & { rpm: number } => r.rpm !== undefined);
  const rates = rated.map((r) => deps.requestRate.take(r.scope, r.rpm));

  const [scriptOutcome, ...rateOutcomes] = await within(deps.timeoutMs, [script, ...rates]);
  const reply = scriptOutcome?.ok ? (scriptOutcome.value as AdmitReply) : null;
  logFailures(deps, request.requestId, [scriptOutcome, ...rateOutcomes]);

  const denials: Denial[] = [];
  const local: LocalTakes = { requests: [], tokens: [], slot: null };
  const requestViews: (RateView | null)[] = [];
  const tokenViews: (RateView | null)[] = [];
  const localRates = deps.policy.rate_limits === "open";

  // Revocation.
  if (reply?.status === "revoked") denials.push({ rank: RANK.revoked, error: keyRevoked });
  if (!reply && deps.policy.revocation === "closed") {
    denials.push({ rank: RANK.unavailable, error: () => limitsUnavailable("key revocation") });
  }

  // Dollar budgets.
  reservation.budgetCounters.forEach((counter, i) => {
    if (reply && reply.status !== "revoked" && reply.budgets[i]?.ok === false) {
      const { budget, period } = counter;
      denials.push({
        rank: RANK.budget,
        error: () => budgetExhausted(budget.scope, period.kind, budget.micros, period.endsAt, now, headers()),
      });
    }
  });
  if (!reply && reservation.budgetCounters.length > 0 && deps.policy.budgets === "closed") {
    denials.push({ rank: RANK.unavailable, error: () => limitsUnavailable("budgets") });
  }

  // Requests per minute.
  rated.forEach((rate, i) => {
    const outcome = rateOutcomes[i];
    let view: RateView;
    let ok: boolean;
    if (outcome?.ok) {
      const result = outcome.value as RateResult;
      view = { limit: result.limit, remaining: result.remaining, resetMs: result.reset - Date.now() };
      ok = result.success;
    } else if (localRates) {
      const id = `rpm:${rate.scope.kind}:${rate.scope.id}`;
      const take = deps.local.take(id, rate.rpm, 1, now);
      if (take.ok) local.requests.push(id);
      view = { limit: rate.rpm, remaining: take.remaining, resetMs: take.resetMs };
      ok = take.ok;
    } else {
      denials.push({ rank: RANK.unavailable, error: () => limitsUnavailable("rate limits") });
      return;
    }
    requestViews.push(view);
    if (!ok)
      denials.push({
        rank: RANK.requests,
        error: () => requestRateExceeded(rate.scope, rate.rpm, view.resetMs, headers()),
      });
  });

  // Tokens per minute.
  const tokenResetMs = TOKEN_WINDOW_MS - (now % TOKEN_WINDOW_MS);
  reservation.tokenCounters.forEach((counter, i) => {
    let used: number;
    let ok: boolean;
    if (reply) {
      if (reply.status === "revoked") return;
      used = reply.tokens[i]?.used ?? 0;
      ok = reply.tokens[i]?.ok ?? false;
    } else if (localRates) {
      const id = `tpm:${counter.scope.kind}:${counter.scope.id}`;
      const take = deps.local.take(id, counter.tpm, reservation.tokens, now);
      if (take.ok) local.tokens.push(id);
      used = counter.tpm - take.remaining - (take.ok ? reservation.tokens : 0);
      ok = take.ok;
    } else {
      denials.push({ rank: RANK.unavailable, error: () => limitsUnavailable("rate limits") });
      return;
    }
    const remaining = counter.tpm - used - (ok ? reservation.tokens : 0);
    tokenViews.push({ limit: counter.tpm, remaining, resetMs: tokenResetMs });
    if (!ok) {
      denials.push({
        rank: RANK.tokens,
        error: () =>
          tokenRateExceeded(counter.scope, counter.tpm, used, reservation.tokens, tokenResetMs, headers()),
      });
    }
  });

  // Concurrency.
  const concurrency = reservation.concurrency;
  if (concurrency > 0) {
    let ok = true;
    if (reply) {
      ok = reply.status === "revoked" || reply.inflight < concurrency;
    } else if (localRates) {
      const id = `inflight:${limits.keyScope.id}`;
      ok = deps.local.acquire(id, reservation.id, concurrency, now, now + reservation.leaseMs);
      if (ok) local.slot = id;
    } else {
      denials.push({ rank: RANK.unavailable, error: () => limitsUnavailable("rate limits") });
    }
    if (!ok) {
      denials.push({
        rank: RANK.concurrency,
        error: () => concurrencyExceeded(limits.keyScope, concurrency, headers()),
      });
    }
  }

  const requestsView = tightest(requestViews);
  const tokensView = tightest(tokenViews);
  function headers(): Record<string, string> {
    return rateLimitHeaders(requestsView, tokensView);
  }
  const breakerState = request.breakerKeys.map((_, i) => reply?.breakers[i] ?? null);
  const scriptAnswered = scriptOutcome?.ok === true;
  const scriptMayHaveReserved = reply?.status === "reserved" || !scriptAnswered;

  if (denials.length > 0) {
    const first = denials.reduce((a, b) => (b.rank < a.rank ? b : a));
    const rollback = giveBack(deps, {
      reservation,
      limits,
      rated,
      rates,
      local,
      // A timed-out script may still run: the record makes the give-back exact either way.
      scriptMayHaveReserved,
      now,
    });
    request.waitUntil?.(rollback);
    return { error: first.error(), headers: headers(), breakerState, settle: () => rollback };
  }

  let settled: Promise<void> | null = null;
  return {
    error: null,
    headers: headers(),
    breakerState,
    settle(actual) {
      settled ??= settle(deps, reservation, local, actual, !reply);
      return settled;
    },
  };
}

/** Settles to the real use: one round trip, and the local fallback's takes, if any. */
async function settle(
  deps: Deps,
  reservation: Reservation,
  local: LocalTakes,
  actual: { tokens: number; costMicros: number },
  fellOpen: boolean,
): Promise<void> {
  const now = deps.now();
  const unused = reservation.tokens - Math.max(0, actual.tokens);
  for (const id of local.tokens) if (unused > 0) deps.local.give(id, unused, now);
  if (local.slot) deps.local.release(local.slot, reservation.id);
  const { keys, args } = settleArgs(
    reservation,
    { tokens: actual.tokens, micros: actual.costMicros },
    fellOpen,
  );
  await deps.settleScript.run(keys, args).catch((error: unknown) => {
    deps.log("warn", "limits settlement failed", { reservation: reservation.id, error: describe(error) });
  });
}

/** Gives back what a refused admission took, so a refusal costs nothing. Never rejects. */
async function giveBack(
  deps: Deps,
  input: {
    reservation: Reservation;
    limits: EffectiveLimits;
    rated: (ScopeRates & { rpm: number })[];
    rates: Promise<RateResult>[];
    local: LocalTakes;
    scriptMayHaveReserved: boolean;
    now: number;
  },
): Promise<void> {
  const { reservation, local, now } = input;
  for (const id of local.requests) deps.local.give(id, 1, now);
  for (const id of local.tokens) deps.local.give(id, reservation.tokens, now);
  if (local.slot) deps.local.release(local.slot, reservation.id);

  const work: Promise<unknown>[] = input.rated.map(async (rate, i) => {
    // Awaited even after a timeout: a late success still took a request that must go back.
    const result = await input.rates[i]?.catch(() => null);
    if (result?.success) await deps.requestRate.refund(rate.scope, rate.rpm);
  });
  if (input.scriptMayHaveReserved) {
    const { keys, args } = settleArgs(reservation, { tokens: 0, micros: 0 }, false);
    work.push(deps.settleScript.run(keys, args));
  }
  const results = await Promise.allSettled(work);
  for (const result of results) {
    if (result.status === "rejected") {
      deps.log("warn", "limits give-back failed", {
        reservation: reservation.id,
        error: describe(result.reason),
      });
    }
  }
}

/** Waits for every promise, but no longer than `ms`; an unsettled one counts as failed. */
async function within(ms: number, promises: Promise<unknown>[]): Promise<Outcome<unknown>[]> {
  const outcomes: (Outcome<unknown> | undefined)[] = promises.map(() => undefined);
  const all = Promise.all(
    promises.map((promise, i) =>
      promise.then(
        (value) => {
          outcomes[i] = { ok: true, value };
        },
        (error: unknown) => {
          outcomes[i] = { ok: false, error };
        },
      ),
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([all, deadline]);
  clearTimeout(timer);
  const timedOut = new Error(`no answer from Redis within ${ms} ms`);
  return outcomes.map((outcome) => outcome ?? { ok: false, error: timedOut });
}

function logFailures(deps: Deps, requestId: string, outcomes: (Outcome<unknown> | undefined)[]): void {
  const failed = outcomes.find((o) => o && !o.ok);
  if (failed && !failed.ok) {
    deps.log("warn", "limits store unreachable; applying the failure policy", {
      requestId,
      error: describe(failed.error),
    });
  }
}

/** An error's first line, short: Upstash errors echo the whole command (script text included). */
function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const cut = text.indexOf(", command was:");
  return (cut === -1 ? text : text.slice(0, cut)).slice(0, 200);
}
