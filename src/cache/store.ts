import type { Redis } from "@upstash/redis/cloudflare";
import type { Log } from "../log";
import { type CacheEntry, encodeEntry } from "./entry";
import type { CacheStores } from "./stores";

/**
 * Stores a complete answer (never a failed or cut one: callers store only a 200 JSON answer or a
 * stream that ran to its end), compressed, with its TTL; an entry over `maxEntryBytes` compressed
 * is skipped. An entry small enough is queued to ride the next settlement batch (no request of its
 * own): the caller settles once this resolves, so its own settlement's batch carries it. A bigger
 * one is SET directly (its settlement then waits for the SET: rare, and off the hot path). Runs
 * after the answer went out (waitUntil); never rejects.
 * @example settle(c, admitted, storeEntry(services, log, { key, ttlSeconds, maxEntryBytes }, entry).then(() => outcome))
 */
export async function storeEntry(
  to: { redis: Redis; cacheStores: CacheStores },
  log: Log,
  where: { key: string; ttlSeconds: number; maxEntryBytes: number },
  entry: CacheEntry,
): Promise<void> {
  try {
    const value = await encodeEntry(entry);
    if (value.length > where.maxEntryBytes) return;
    if (to.cacheStores.queue({ key: where.key, ttlSeconds: where.ttlSeconds, value })) return;
    await to.redis.set(where.key, value, { ex: where.ttlSeconds });
  } catch (error) {
    log("warn", "response cache store failed", { error: error instanceof Error ? error.name : "unknown" });
  }
}
