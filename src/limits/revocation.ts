import type { Redis } from "@upstash/redis/cloudflare";
import { revokedKeyName } from "./keys";
import { REVOKE_SCRIPT } from "./scripts";

/**
 * Revokes an API key everywhere: the gate reads the marker in its one round trip, so the key is
 * refused from the next request on. The marker expires with the key (`expiresAt`, ms; null for a
 * key that never expires), after which the signature check refuses it anyway. `effectiveAt` (ms)
 * delays the refusal, for the grace period of a rotation; an earlier revocation always wins.
 * @example await revokeKey(redis, claims.jti, claims.exp * 1000)
 * @example await revokeKey(redis, oldId, oldExpiresAt, { effectiveAt: Date.now() + graceSeconds * 1000 })
 */
export async function revokeKey(
  redis: Redis,
  keyId: string,
  expiresAt: number | null,
  opts: { effectiveAt?: number; now?: number } = {},
): Promise<void> {
  const now = opts.now ?? Date.now();
  if (expiresAt !== null && expiresAt <= now) return; // already refused by its own expiry
  const from = Math.max(0, Math.floor(opts.effectiveAt ?? 0));
  const expireAt = expiresAt === null ? 0 : Math.ceil(expiresAt);
  await redis.eval(REVOKE_SCRIPT, [revokedKeyName(keyId)], [String(from), String(expireAt)]);
}

/**
 * True when the key is revoked at `now` (ms); one read of its own, for paths outside the gate.
 * @example if (await isKeyRevoked(redis, keyId)) throw invalidApiKey()
 */
export async function isKeyRevoked(redis: Redis, keyId: string, now = Date.now()): Promise<boolean> {
  const value = await redis.get<string | number>(revokedKeyName(keyId));
  if (value === null) return false;
  const from = Number(value);
  // The gate's script reads a marker that is not a number as "revoked now": agree with it.
  return !Number.isFinite(from) || from <= now;
}
