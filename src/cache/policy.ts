import type { RouteConfig } from "../config";
import { badRequest } from "../errors";

/** What the response cache may do for one request. */
export interface CachePolicy {
  /** Answer from a stored entry when there is one (false for `refresh` and `no-cache`). */
  read: boolean;
  ttlSeconds: number;
  maxEntryBytes: number;
}

/**
 * The cache policy of a request, or null when it bypasses the cache: the route has no `cache`, the
 * caller's plan or key turns it off (a `ceiling` of 0), the caller said `x-sluice-cache: no-store`
 * or `Cache-Control: no-store`, or the answer is sampled (temperature above the route's
 * `max_temperature`, unset counting as 1; `n` > 1 while sampling).
 * `x-sluice-cache: refresh` and `Cache-Control: no-cache` skip the lookup but store the new answer;
 * `x-sluice-cache-ttl` shortens the TTL, which never exceeds the route's nor the `ceiling`
 * (the plan's and key's, see cacheCeiling).
 * @example const policy = cachePolicy(route, "chat", body, c.req.raw.headers, cacheCeiling(config, caller))
 */
export function cachePolicy(
  route: RouteConfig,
  endpoint: string,
  body: Record<string, unknown>,
  headers: Headers,
  ceiling: number | null = null,
): CachePolicy | null {
  const config = route.cache;
  if (!config || ceiling === 0) return null;
  const directive = headers.get("x-sluice-cache")?.trim().toLowerCase() ?? "";
  const control = (headers.get("cache-control") ?? "").toLowerCase();
  if (directive === "no-store" || /(^|[\s,])no-store($|[\s,])/.test(control)) return null;
  if (endpoint !== "embeddings" && sampled(body, config.max_temperature)) return null;
  const refresh = directive === "refresh" || /(^|[\s,])no-cache($|[\s,])/.test(control);
  return {
    read: !refresh,
    ttlSeconds: Math.min(config.ttl_seconds, ceiling ?? Infinity, requestedTtl(headers) ?? Infinity),
    maxEntryBytes: config.max_entry_bytes,
  };
}

/** Whether the answer is drawn at random beyond what the route accepts to freeze. */
function sampled(body: Record<string, unknown>, maxTemperature: number): boolean {
  const temperature = typeof body.temperature === "number" ? body.temperature : 1;
  if (temperature > maxTemperature) return true;
  const n = typeof body.n === "number" ? body.n : 1;
  return n > 1 && temperature > 0;
}

/** `x-sluice-cache-ttl`: whole seconds, 1 to 30 days; anything else is the caller's error. */
function requestedTtl(headers: Headers): number | null {
  const value = headers.get("x-sluice-cache-ttl");
  if (value === null) return null;
  if (!/^[0-9]{1,7}$/.test(value.trim()) || Number(value) < 1 || Number(value) > 2_592_000) {
    throw badRequest(
      "x-sluice-cache-ttl must be a whole number of seconds from 1 to 2592000.",
      null,
      "invalid_cache_ttl",
    );
  }
  return Number(value);
}
