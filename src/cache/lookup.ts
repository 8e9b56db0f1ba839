import type { RouteConfig } from "../config";
import { type CacheEntry, decodeEntry } from "./entry";
import { cacheKey } from "./key";
import { type CachePolicy, cachePolicy } from "./policy";

/** A request the response cache handles: where its entry lives and what it may do with it. */
export interface CachePlan {
  key: string;
  policy: CachePolicy;
}

/** A planned request after the gate's round trip: the entry it found, if it looked and found one. */
export interface CacheState extends CachePlan {
  entry: CacheEntry | null;
}

/**
 * Plans a request's cache use before the gate (null: it bypasses the cache). Native passthrough
 * callers (`raw` output) bypass it: only answers that went through the OpenAI shape are stored.
 * @example const plan = await planCache({ route, routeName, tenant, endpoint, body, headers, raw })
 */
export async function planCache(input: {
  route: RouteConfig;
  routeName: string;
  tenant: string;
  endpoint: string;
  body: Record<string, unknown>;
  headers: Headers;
  raw: boolean;
}): Promise<CachePlan | null> {
  if (input.raw) return null;
  const policy = cachePolicy(input.route, input.endpoint, input.body, input.headers);
  if (!policy) return null;
  const key = await cacheKey({
    tenant: input.tenant,
    route: input.routeName,
    endpoint: input.endpoint,
    body: input.body,
  });
  return key ? { key, policy } : null;
}

/**
 * The plan with what the gate's GET returned, decoded (a miss when it asked for nothing).
 * @example const cache = await withEntry(plan, admission.cached)
 */
export async function withEntry(plan: CachePlan, cached: unknown): Promise<CacheState> {
  return { ...plan, entry: plan.policy.read ? await decodeEntry(cached) : null };
}

/**
 * The `x-sluice-cache` header for a request: HIT, MISS, or BYPASS when the cache was not used.
 * @example c.header("x-sluice-cache", cacheStatus(admitted.cache))
 */
export function cacheStatus(cache: CacheState | null): "HIT" | "MISS" | "BYPASS" {
  if (!cache) return "BYPASS";
  return cache.entry ? "HIT" : "MISS";
}
