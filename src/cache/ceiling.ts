import { type Config, planLimits } from "../config";

/** What the ceiling is read from: the caller's plan and the key's own limits. */
export interface CacheCaller {
  plan: string | null;
  limits: { cache_max_ttl_seconds?: number };
}

/**
 * The longest the response cache may keep a caller's answers, in seconds: the smaller of its
 * plan's `cache_max_ttl_seconds` and its key's (a key narrows its plan, never widens it); 0 means
 * the cache is off for it, null that neither sets a ceiling (the route's TTL stands). Pure CPU:
 * it rides on the claims the key already carries, so the lookup stays in the gate's round trip.
 * @example cacheCeiling(config, caller) // 60 on a plan with { cache_max_ttl_seconds: 60 }
 */
export function cacheCeiling(config: Config, caller: CacheCaller): number | null {
  const plan = planLimits(config, caller.plan).cache_max_ttl_seconds;
  const key = caller.limits.cache_max_ttl_seconds;
  if (plan === undefined) return key ?? null;
  return key === undefined ? plan : Math.min(plan, key);
}
