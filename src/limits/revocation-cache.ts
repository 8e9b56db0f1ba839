import type { Redis } from "@upstash/redis/cloudflare";
import { revokedKeyName } from "./keys";

/** How long a read marker is trusted: well inside the "refused within 1 s everywhere" promise. */
const MEMO_MS = 500;
const MAX_ENTRIES = 10_000;

export interface RevocationCache {
  /** True when the key is revoked at `now`; one Redis GET at most every 500 ms per key. */
  isRevoked(keyId: string): Promise<boolean>;
  /** Drops what this isolate remembers of a key (after the admin API revoked or rotated it). */
  forget(keyId: string): void;
}

/**
 * Revocation for routes outside the limits gate (e.g. GET /v1/models), which has no round trip of
 * its own to ride on. It remembers the marker's effective time, not a verdict, so a rotation's
 * grace still ends exactly on time inside the memo window.
 * @example if (await revocations.isRevoked(caller.keyId)) throw invalidApiKey()
 */
export function createRevocationCache(redis: Redis, now: () => number): RevocationCache {
  const memo = new Map<string, { from: number | null; readAt: number }>();
  return {
    async isRevoked(keyId) {
      const at = now();
      let entry = memo.get(keyId);
      if (!entry || at - entry.readAt >= MEMO_MS || at < entry.readAt) {
        const value = await redis.get<string | number>(revokedKeyName(keyId));
        // A marker that is not a number reads as "revoked now", as the gate's script reads it.
        const from = value === null ? null : Number.isFinite(Number(value)) ? Number(value) : 0;
        entry = { from, readAt: at };
        memo.delete(keyId);
        memo.set(keyId, entry);
        if (memo.size > MAX_ENTRIES) memo.delete(memo.keys().next().value as string);
      }
      return entry.from !== null && entry.from <= at;
    },
    forget(keyId) {
      memo.delete(keyId);
    },
  };
}
