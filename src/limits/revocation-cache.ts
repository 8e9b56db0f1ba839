import type { Redis } from "@upstash/redis/cloudflare";
import { revokedKeyName, tenantStateKey } from "./keys";

/** How long a read marker is trusted: well inside the "refused within 1 s everywhere" promise. */
const MEMO_MS = 500;
const MAX_ENTRIES = 10_000;

export interface RevocationCache {
  /**
   * Why a key is refused at `now`: its revocation, or its tenant's suspension; null when it is not.
   * One Redis request (both reads in one pipeline) at most every 500 ms per key.
   */
  refusal(keyId: string, tenant: string): Promise<"revoked" | "suspended" | null>;
  /** Drops what this isolate remembers of a key (after the admin API revoked or rotated it). */
  forget(keyId: string): void;
}

/**
 * Revocation and tenant suspension for routes outside the limits gate (e.g. GET /v1/models),
 * which has no round trip of its own to ride on. It remembers the marker's effective time, not a
 * verdict, so a rotation's grace still ends exactly on time inside the memo window.
 * @example if ((await revocations.refusal(caller.keyId, caller.tenant)) === "revoked") throw invalidApiKey()
 */
export function createRevocationCache(redis: Redis, now: () => number): RevocationCache {
  const memo = new Map<string, { from: number | null; suspended: boolean; readAt: number }>();
  return {
    async refusal(keyId, tenant) {
      const at = now();
      let entry = memo.get(keyId);
      if (!entry || at - entry.readAt >= MEMO_MS || at < entry.readAt) {
        const [value, suspended] = await redis
          .pipeline()
          .get<string | number>(revokedKeyName(keyId))
          .hget<string | number>(tenantStateKey(tenant), "suspended")
          .exec<[string | number | null, string | number | null]>();
        // A marker that is not a number reads as "revoked now", as the gate's script reads it.
        const from = value === null ? null : Number.isFinite(Number(value)) ? Number(value) : 0;
        entry = { from, suspended: String(suspended) === "1", readAt: at };
        memo.delete(keyId);
        memo.set(keyId, entry);
        if (memo.size > MAX_ENTRIES) memo.delete(memo.keys().next().value as string);
      }
      if (entry.from !== null && entry.from <= at) return "revoked";
      return entry.suspended ? "suspended" : null;
    },
    forget(keyId) {
      memo.delete(keyId);
    },
  };
}
