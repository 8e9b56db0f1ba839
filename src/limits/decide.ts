import type { FailurePolicy } from "../config";
import type { GatewayError } from "../errors";
import type { Outcome } from "./deadline";
import {
  budgetExhausted,
  concurrencyExceeded,
  insufficientBalance,
  keyRevoked,
  limitsUnavailable,
  requestRateExceeded,
  tenantSuspended,
  tokenRateExceeded,
} from "./denials";
import type { RateView } from "./headers";
import type { Scope } from "./keys";
import type { LocalLimiter } from "./local-limiter";
import type { Remembered } from "./refusals";
import type { RateResult } from "./request-rate";
import { type AdmitReply, type Reservation, TOKEN_WINDOW_MS } from "./reservation";

/** A request-rate limit that was checked, with the library's answer (or its failure). */
export interface RateCheck {
  scope: Scope;
  rpm: number;
  outcome: Outcome<RateResult>;
}

/** A refusal; the lowest rank is reported: the most lasting reason first. */
export interface Denial {
  rank: number;
  error: (headers: Record<string, string>) => GatewayError;
  /** Set when the refusal holds until a known time: the isolate may refuse from memory until then. */
  memo?: Remembered;
}

const RANK = {
  revoked: 0,
  unavailable: 1,
  balance: 2,
  budget: 2,
  requests: 3,
  tokens: 4,
  concurrency: 5,
} as const;

/** What the local fallback handed out, to give back on refusal or settlement. */
export interface LocalTakes {
  requests: string[];
  tokens: string[];
  slot: string | null;
}

export interface Decision {
  denials: Denial[];
  requestViews: RateView[];
  tokenViews: RateView[];
  local: LocalTakes;
}

export interface DecideInput {
  now: number;
  reservation: Reservation;
  keyScope: Scope;
  /** The admission script's reply; null when Redis failed or did not answer in time. */
  reply: AdmitReply | null;
  rates: RateCheck[];
  policy: FailurePolicy;
  local: LocalLimiter;
  /** The tenant was prepaid at its last admission in this isolate (see PrepaidTenants). */
  knownPrepaid?: boolean;
}

/**
 * Turns the round trip's answers into a decision, check by check, applying the failure policy
 * (and the local fallback) to each check whose answer is missing.
 */
export function decide(input: DecideInput): Decision {
  const decision: Decision = {
    denials: [],
    requestViews: [],
    tokenViews: [],
    local: { requests: [], tokens: [], slot: null },
  };
  checkRevocation(input, decision);
  if (input.reply?.status === "revoked" || input.reply?.status === "suspended") return decision;
  checkBalance(input, decision);
  checkBudgets(input, decision);
  checkRequestRates(input, decision);
  checkTokenRates(input, decision);
  checkConcurrency(input, decision);
  return decision;
}

const unavailable = (check: Parameters<typeof limitsUnavailable>[0]): Denial => ({
  rank: RANK.unavailable,
  error: () => limitsUnavailable(check),
});

function checkRevocation({ reply, policy }: DecideInput, decision: Decision): void {
  if (reply?.status === "revoked") decision.denials.push({ rank: RANK.revoked, error: keyRevoked });
  if (reply?.status === "suspended") decision.denials.push({ rank: RANK.revoked, error: tenantSuspended });
  if (!reply && policy.revocation === "closed") decision.denials.push(unavailable("key revocation"));
}

/**
 * A prepaid tenant's balance must hold the billed worst case (the script refused otherwise); one
 * known to be prepaid is refused while Redis is unreachable, whatever the failure policy.
 */
function checkBalance({ reply, reservation, knownPrepaid }: DecideInput, decision: Decision): void {
  if (!reply && knownPrepaid) decision.denials.push(unavailable("prepaid balance"));
  const balance = reply?.balance;
  if (!balance || balance.ok) return;
  decision.denials.push({
    rank: RANK.balance,
    error: (headers) => insufficientBalance(balance.available, reservation.billedMicros, headers),
  });
}

function checkBudgets({ reply, reservation, policy, now }: DecideInput, decision: Decision): void {
  if (reservation.budgetCounters.length === 0) return;
  if (!reply) {
    if (policy.budgets === "closed") decision.denials.push(unavailable("budgets"));
    return;
  }
  reservation.budgetCounters.forEach(({ budget, period }, i) => {
    const counter = reply.budgets[i];
    if (counter?.ok !== false) return;
    decision.denials.push({
      rank: RANK.budget,
      error: (headers) =>
        budgetExhausted(budget.scope, period.kind, budget.micros, period.endsAt, now, headers),
      // Remembered only when nothing is left at all: a worst case too large for what is left is this request's.
      memo:
        counter.spent >= budget.micros
          ? {
              scope: budget.scope,
              until: period.endsAt,
              freedBySettlement: true,
              refuses: () => true,
              error: (ms, headers) =>
                budgetExhausted(
                  budget.scope,
                  period.kind,
                  budget.micros,
                  period.endsAt,
                  period.endsAt - ms,
                  headers,
                ),
            }
          : undefined,
    });
  });
}

function checkRequestRates({ rates, policy, local, now }: DecideInput, decision: Decision): void {
  for (const { scope, rpm, outcome } of rates) {
    let view: RateView;
    let ok: boolean;
    if (outcome.ok) {
      // @upstash/ratelimit keeps its own clock: its reset is against Date.now().
      view = {
        limit: outcome.value.limit,
        remaining: outcome.value.remaining,
        resetMs: outcome.value.reset - Date.now(),
      };
      ok = outcome.value.success;
    } else if (policy.rate_limits === "open") {
      const id = `rpm:${scope.kind}:${scope.id}`;
      const take = local.take(id, rpm, 1, now);
      if (take.ok) decision.local.requests.push(id);
      view = { limit: rpm, remaining: take.remaining, resetMs: take.resetMs };
      ok = take.ok;
    } else {
      decision.denials.push(unavailable("rate limits"));
      continue;
    }
    decision.requestViews.push(view);
    if (!ok) {
      decision.denials.push({
        rank: RANK.requests,
        error: (headers) => requestRateExceeded(scope, rpm, view.resetMs, headers),
        // Only the store's answer is remembered: the local fallback's is this isolate's guess.
        memo: outcome.ok
          ? {
              scope,
              until: now + view.resetMs,
              freedBySettlement: false,
              refuses: () => true,
              error: (ms, headers) => requestRateExceeded(scope, rpm, ms, headers),
            }
          : undefined,
      });
    }
  }
}

function checkTokenRates({ reply, reservation, policy, local, now }: DecideInput, decision: Decision): void {
  const requested = reservation.tokens;
  const resetMs = TOKEN_WINDOW_MS - (now % TOKEN_WINDOW_MS);
  reservation.tokenCounters.forEach(({ scope, tpm }, i) => {
    let used: number;
    let ok: boolean;
    if (reply) {
      used = reply.tokens[i]?.used ?? 0;
      ok = reply.tokens[i]?.ok ?? false;
    } else if (policy.rate_limits === "open") {
      const id = `tpm:${scope.kind}:${scope.id}`;
      const take = local.take(id, tpm, requested, now);
      if (take.ok) decision.local.tokens.push(id);
      ok = take.ok;
      used = tpm - take.remaining - (ok ? requested : 0);
    } else {
      decision.denials.push(unavailable("rate limits"));
      return;
    }
    decision.tokenViews.push({ limit: tpm, remaining: tpm - used - (ok ? requested : 0), resetMs });
    if (!ok) {
      decision.denials.push({
        rank: RANK.tokens,
        error: (headers) => tokenRateExceeded(scope, tpm, used, requested, resetMs, headers),
        memo: reply ? tokensMemo(scope, tpm, used, now + resetMs) : undefined,
      });
    }
  });
}

function checkConcurrency(
  { reply, reservation, keyScope, policy, local, now }: DecideInput,
  decision: Decision,
): void {
  const limit = reservation.concurrency;
  if (limit === 0) return;
  let ok: boolean;
  if (reply) {
    ok = reply.inflight < limit;
  } else if (policy.rate_limits === "open") {
    const id = `inflight:${keyScope.id}`;
    ok = local.acquire(id, reservation.id, limit, now, now + reservation.leaseMs);
    if (ok) decision.local.slot = id;
  } else {
    decision.denials.push(unavailable("rate limits"));
    return;
  }
  if (!ok) {
    decision.denials.push({
      rank: RANK.concurrency,
      error: (headers) => concurrencyExceeded(keyScope, limit, headers),
    });
  }
}

/** A token-rate refusal as remembered: until the window ends, a request needing more than was left is refused too. */
function tokensMemo(scope: Scope, tpm: number, used: number, until: number): Remembered {
  return {
    scope,
    until,
    freedBySettlement: true,
    refuses: (need) => need.tokens > tpm - used,
    error: (ms, headers, need) => tokenRateExceeded(scope, tpm, used, need.tokens, ms, headers),
  };
}
