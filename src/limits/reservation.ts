import {
  ALERT_QUEUE_KEY,
  balanceKey,
  budgetAlertMarkerKey,
  budgetKey,
  inflightKey,
  reservationKey,
  revokedKeyName,
  type Scope,
  tenantStateKey,
  tokenBucketKey,
} from "./keys";
import { type Period, periodOf } from "./periods";
import type { Budget, EffectiveLimits } from "./resolve";
import type { BudgetAlerts } from "./types";

/** Tokens per minute: the token-rate window. */
export const TOKEN_WINDOW_MS = 60_000;
/** Budget counters outlive their period by a day, so a request settled after midnight still finds its day. */
const BUDGET_GRACE_MS = 86_400_000;
/** A reservation record outlives the lease by an hour, so a late settlement still gives back. */
const RECORD_GRACE_MS = 3_600_000;

/** One token-rate counter taking part in an admission. */
export interface TokenCounter {
  scope: Scope;
  tpm: number;
  current: string;
  previous: string;
}

/** One budget counter taking part in an admission. */
export interface BudgetCounter {
  budget: Budget;
  period: Period;
  key: string;
}

/** Everything one admission reserves, and where: settlement adjusts exactly these counters. */
export interface Reservation {
  id: string;
  now: number;
  leaseMs: number;
  tokens: number;
  micros: number;
  /** Taken from a prepaid balance: the worst case at the billed price (budgets count cost). */
  billedMicros: number;
  concurrency: number;
  revokedKey: string;
  recordKey: string;
  inflightKey: string;
  tokenCounters: TokenCounter[];
  budgetCounters: BudgetCounter[];
  breakerKeys: string[];
  /** The tenant's state hash (suspension, prepaid) and its prepaid balance counter. */
  tenantStateKey: string;
  balanceKey: string;
  /** Budget alerts for this caller: thresholds (percent) and the tenant they go to; null when off. */
  alerts: BudgetAlerts | null;
}

/** What the admission script found. */
export interface AdmitReply {
  status: (typeof STATUS)[number];
  inflight: number;
  tokens: { used: number; ok: boolean }[];
  budgets: { spent: number; ok: boolean }[];
  breakers: (string | null)[];
  /** The prepaid balance before this admission (micro-dollars); null when the tenant is not prepaid. */
  balance: { available: number; ok: boolean } | null;
}

/** Lays out one admission's counters for `now` (ms). */
export function planReservation(input: {
  limits: EffectiveLimits;
  keyId: string;
  tenant: string;
  id: string;
  now: number;
  leaseMs: number;
  tokens: number;
  micros: number | null;
  billedMicros?: number | null;
  breakerKeys: string[];
}): Reservation {
  const { limits, now } = input;
  const window = Math.floor(now / TOKEN_WINDOW_MS);
  const tokenCounters: TokenCounter[] = [];
  for (const rate of limits.rates) {
    if (rate.tpm === undefined) continue;
    tokenCounters.push({
      scope: rate.scope,
      tpm: rate.tpm,
      current: tokenBucketKey(rate.scope, window),
      previous: tokenBucketKey(rate.scope, window - 1),
    });
  }
  const budgetCounters = limits.budgets.map((budget) => {
    const period = periodOf(budget.period, now);
    return { budget, period, key: budgetKey(budget.scope, period.id) };
  });
  return {
    id: input.id,
    now,
    leaseMs: input.leaseMs,
    tokens: nonNegativeInt(input.tokens),
    // An unpriced model reserves nothing, but an exhausted budget still refuses it.
    micros: nonNegativeInt(input.micros ?? 0),
    billedMicros: nonNegativeInt((input.billedMicros === undefined ? input.micros : input.billedMicros) ?? 0),
    concurrency: limits.concurrency ?? 0,
    revokedKey: revokedKeyName(input.keyId),
    recordKey: reservationKey(input.id),
    inflightKey: inflightKey(limits.keyScope),
    tokenCounters,
    budgetCounters,
    breakerKeys: input.breakerKeys,
    tenantStateKey: tenantStateKey(input.tenant),
    balanceKey: balanceKey(input.tenant),
    alerts: limits.alerts,
  };
}

/**
 * KEYS and ARGV of ADMIT_SCRIPT for a reservation. Built with plain pushes: on every request,
 * and spreads of flatMap results cost several microseconds in workerd.
 */
export function admitArgs(r: Reservation): { keys: string[]; args: (string | number)[] } {
  const keys = [r.revokedKey, r.recordKey, r.inflightKey];
  for (const c of r.tokenCounters) keys.push(c.current, c.previous);
  for (const c of r.budgetCounters) keys.push(c.key);
  for (const key of r.breakerKeys) keys.push(key);
  keys.push(r.tenantStateKey, r.balanceKey);
  const args: (string | number)[] = [
    r.now,
    r.id,
    r.leaseMs,
    r.concurrency,
    r.tokens,
    TOKEN_WINDOW_MS,
    r.micros,
    r.leaseMs + RECORD_GRACE_MS,
    r.tokenCounters.length,
    r.budgetCounters.length,
    r.breakerKeys.length,
  ];
  for (const c of r.tokenCounters) args.push(c.tpm);
  for (const c of r.budgetCounters) args.push(c.budget.micros, c.period.endsAt + BUDGET_GRACE_MS);
  // Last, so the script reads it as ARGV[#ARGV] whatever came before.
  args.push(r.billedMicros);
  return { keys, args };
}

/** KEYS and ARGV of SETTLE_SCRIPT: adjusts the reservation to the real use (zero to give it all back). */
export function settleArgs(
  r: Reservation,
  actual: { tokens: number; micros: number; billedMicros?: number },
  recordWithoutReservation: boolean,
): { keys: string[]; args: (string | number)[] } {
  const keys = [r.recordKey, r.inflightKey];
  for (const c of r.tokenCounters) keys.push(c.current);
  for (const c of r.budgetCounters) keys.push(c.key);
  const args: (string | number)[] = [
    r.id,
    nonNegativeInt(actual.tokens),
    nonNegativeInt(actual.micros),
    r.tokenCounters.length,
    recordWithoutReservation ? 1 : 0,
    r.alerts ? r.budgetCounters.length : 0,
  ];
  for (const _ of r.tokenCounters) args.push(r.now + 2 * TOKEN_WINDOW_MS + 1000);
  for (const c of r.budgetCounters) args.push(c.period.endsAt + BUDGET_GRACE_MS);
  if (r.alerts) addAlertArgs(r, r.alerts, keys, args);
  keys.push(r.balanceKey);
  // Last, so the script reads it as ARGV[#ARGV] whatever came before.
  args.push(nonNegativeInt(actual.billedMicros ?? actual.micros));
  return { keys, args };
}

/** The alert part of SETTLE_SCRIPT's KEYS and ARGV: markers, queue, thresholds, alert texts. */
function addAlertArgs(r: Reservation, alerts: BudgetAlerts, keys: string[], args: (string | number)[]): void {
  for (const c of r.budgetCounters) keys.push(budgetAlertMarkerKey(c.key));
  keys.push(ALERT_QUEUE_KEY);
  args.push(r.now, alerts.thresholds.length, ...alerts.thresholds);
  for (const c of r.budgetCounters) {
    // The script appends the threshold, the spend and the time, then the closing brace.
    const alert = JSON.stringify({
      type: "budget",
      tenant: alerts.tenant,
      scope: c.budget.scope.kind,
      scope_id: c.budget.scope.id,
      period: c.period.id,
      limit_micros: c.budget.micros,
    }).slice(0, -1);
    args.push(c.budget.micros, alert);
  }
}

const STATUS = ["reserved", "revoked", "refused", "suspended"] as const;

/** Reads ADMIT_SCRIPT's reply (the client may have turned numeric strings into numbers). */
export function parseAdmitReply(reply: unknown): AdmitReply {
  if (!Array.isArray(reply) || reply.length < 9)
    throw new Error("unexpected reply from the admission script");
  const [status, inflight, tokenUsed, tokenOk, budgetSpent, budgetOk, breakers, balance, balanceOk] =
    reply as unknown[][];
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  return {
    status: STATUS[Number(status)] ?? "refused",
    inflight: Number(inflight),
    tokens: list(tokenUsed).map((used, i) => ({ used: Number(used), ok: Number(list(tokenOk)[i]) === 1 })),
    budgets: list(budgetSpent).map((spent, i) => ({
      spent: Number(spent),
      ok: Number(list(budgetOk)[i]) === 1,
    })),
    breakers: list(breakers).map(breakerValue),
    balance: Number(balanceOk) < 0 ? null : { available: Number(balance), ok: Number(balanceOk) === 1 },
  };
}

/** Breaker values as stored: the client parses JSON-looking strings, so turn them back. */
function breakerValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

const nonNegativeInt = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0);
