import type { Redis } from "@upstash/redis/cloudflare";
import type { Log } from "../log";
import { type CacheEntry, encodeEntry } from "./entry";

/**
 * Stores a complete answer (never a failed or cut one: callers store only a 200 JSON answer),
 * compressed, with its TTL; an entry over `maxEntryBytes` compressed is skipped. Runs in
 * waitUntil, after the answer went out; never rejects.
 * @example c.executionCtx.waitUntil(storeEntry(redis, log, { key, ttlSeconds, maxEntryBytes }, entry))
 */
export async function storeEntry(
  redis: Redis,
  log: Log,
  where: { key: string; ttlSeconds: number; maxEntryBytes: number },
  entry: CacheEntry,
): Promise<void> {
  try {
    const value = await encodeEntry(entry);
    if (value.length > where.maxEntryBytes) return;
    await redis.set(where.key, value, { ex: where.ttlSeconds });
  } catch (error) {
    log("warn", "response cache store failed", { error: error instanceof Error ? error.name : "unknown" });
  }
}
