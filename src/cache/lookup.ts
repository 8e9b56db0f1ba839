import type { Config, RouteConfig } from "../config";
import { type CacheCaller, cacheCeiling } from "./ceiling";
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
 * The caller's plan and key may turn the cache off or lower its TTL (see cacheCeiling).
 * @example const plan = await planCache({ config, caller, route, routeName, endpoint, body, headers, raw })
 */
export async function planCache(input: {
  config: Config;
  caller: CacheCaller & { tenant: string };
  route: RouteConfig;
  routeName: string;
  endpoint: string;
  body: Record<string, unknown>;
  headers: Headers;
  raw: boolean;
}): Promise<CachePlan | null> {
  if (input.raw) return null;
  const ceiling = cacheCeiling(input.config, input.caller);
  const policy = cachePolicy(input.route, input.endpoint, input.body, input.headers, ceiling);
  if (!policy) return null;
  const key = await cacheKey({
    tenant: input.caller.tenant,
    route: input.routeName,
    endpoint: input.endpoint,
    body: input.body,
  });
  return key ? { key, policy } : null;
}

/**
 * The plan with what the gate's GET returned, decoded (a miss when it asked for nothing). An entry
 * older than this request's TTL is a miss too: keys of one tenant share entries, and one stored
 * under a longer TTL (another plan's, another request's) must not reach a caller whose plan, key
 * or `x-sluice-cache-ttl` allows answers only that old.
 * @example const cache = await withEntry(plan, admission.cached, services.now())
 */
export async function withEntry(plan: CachePlan, cached: unknown, now: number): Promise<CacheState> {
  const entry = plan.policy.read ? await decodeEntry(cached) : null;
  const fresh = entry !== null && now - entry.storedAt <= plan.policy.ttlSeconds * 1000;
  return { ...plan, entry: fresh ? entry : null };
}

/**
 * The `x-sluice-cache` header for a request: HIT, MISS, or BYPASS when the cache was not used.
 * @example c.header("x-sluice-cache", cacheStatus(admitted.cache))
 */
export function cacheStatus(cache: CacheState | null): "HIT" | "MISS" | "BYPASS" {
  if (!cache) return "BYPASS";
  return cache.entry ? "HIT" : "MISS";
}
