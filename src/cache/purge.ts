import type { Redis } from "@upstash/redis/cloudflare";
import { purgePattern } from "./key";

/** SCAN pages walked per purge at most (500 keys a page): a purge is bounded work. */
const MAX_PAGES = 2_000;

/**
 * Deletes the response-cache entries of a tenant, of a route, or of one route of one tenant, by
 * SCAN over their key prefix/pattern (the names are hashed into it, never used raw). Returns how
 * many entries were deleted and whether the walk finished (false: call again).
 * @example await purgeEntries(redis, { tenant: "acme" }) // { deleted: 12, complete: true }
 */
export async function purgeEntries(
  redis: Redis,
  scope: { tenant?: string; route?: string },
): Promise<{ deleted: number; complete: boolean }> {
  const match = await purgePattern(scope);
  let cursor = "0";
  let deleted = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const [next, keys] = await redis.scan(cursor, { match, count: 500 });
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = String(next);
    if (cursor === "0") return { deleted, complete: true };
  }
  return { deleted, complete: false };
}
