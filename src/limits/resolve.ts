import { type Config, ownValue, planLimits } from "../config";
import type { Scope } from "./keys";
import type { PeriodKind } from "./periods";
import type { BudgetAlerts, Caller } from "./types";

/** Request and token rates of one scope; an absent rate is not limited. */
export interface ScopeRates {
  scope: Scope;
  rpm?: number;
  tpm?: number;
}

/** A spend budget of one scope for one period, in integer micro-dollars. */
export interface Budget {
  scope: Scope;
  period: PeriodKind;
  micros: number;
}

/** Everything the gate enforces for one caller. */
export interface EffectiveLimits {
  keyScope: Scope;
  /** The key's rates first, then the tenant's when configured. */
  rates: ScopeRates[];
  concurrency?: number;
  budgets: Budget[];
  /** Alerts the budgets' settlements may queue; null without budgets or a destination. */
  alerts: BudgetAlerts | null;
}

/** Exact conversion for config dollars: budgets are counted in integers so no float drifts. */
export const usdToMicros = (usd: number): number => Math.round(usd * 1_000_000);

/**
 * Resolves a caller's limits: the key's own limits override its plan's (an unknown or absent plan
 * means `default_plan`); tenant budgets (and tenant rates, if configured) are shared by all keys
 * of the tenant.
 * @example resolveLimits(config, { tenant: "acme", keyId: "k1", plan: "pro", limits: { rpm: 10 }, expiresAt: null })
 */
export function resolveLimits(config: Config, caller: Caller): EffectiveLimits {
  const own = { ...planLimits(config, caller.plan), ...definedOnly(caller.limits) };
  const keyScope: Scope = { kind: "key", id: caller.keyId };
  const tenantScope: Scope = { kind: "tenant", id: caller.tenant };
  const tenant = ownValue(config.tenant_limits, caller.tenant) ?? {};

  const rates: ScopeRates[] = [{ scope: keyScope, rpm: own.rpm, tpm: own.tpm }];
  if (tenant.rpm !== undefined || tenant.tpm !== undefined) {
    rates.push({ scope: tenantScope, rpm: tenant.rpm, tpm: tenant.tpm });
  }

  const budgets: Budget[] = [];
  const addBudget = (scope: Scope, period: PeriodKind, usd: number | undefined) => {
    if (usd !== undefined) budgets.push({ scope, period, micros: usdToMicros(usd) });
  };
  addBudget(keyScope, "day", own.budget_usd_day);
  addBudget(keyScope, "month", own.budget_usd_month);
  addBudget(tenantScope, "day", tenant.budget_usd_day);
  addBudget(tenantScope, "month", tenant.budget_usd_month);

  const alerts = budgets.length > 0 ? resolveBudgetAlerts(config, caller.tenant) : null;
  return { keyScope, rates, concurrency: own.concurrency, budgets, alerts };
}

/** Drops keys whose value is undefined, so they do not erase the plan's value when spread. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The budget alerts of a caller's tenant: its own destination's thresholds, else the global ones
 * when a global webhook is configured; null when its alerts go nowhere.
 * @example resolveBudgetAlerts(config, "acme") // { tenant: "acme", thresholds: [50, 80, 100] }
 */
export function resolveBudgetAlerts(config: Config, tenant: string): BudgetAlerts | null {
  const own = ownValue(config.alerts.tenants, tenant);
  if (own) return { tenant, thresholds: own.budget_thresholds ?? config.alerts.budget_thresholds };
  return config.alerts.webhook_url ? { tenant, thresholds: config.alerts.budget_thresholds } : null;
}
