/**
 * The Redis key layout of the limits, in one place. Every key carries a TTL or is bounded:
 *
 * | key | type | holds | expires |
 * |---|---|---|---|
 * | `sluice:revoked:<keyId>` | string | ms from which the key is refused (0 = now) | at the key's `exp` |
 * | `sluice:rpm:key:<keyId>:<window>`, `sluice:rpm:tenant:<tenant>:<window>` | string | @upstash/ratelimit sliding window | 2 windows + 1 s |
 * | `sluice:tpm:key:<keyId>:<minute>`, `sluice:tpm:tenant:<tenant>:<minute>` | integer | tokens reserved/used in that minute | 2 windows + 1 s |
 * | `sluice:budget:key:<keyId>:d:<YYYY-MM-DD>` (and `:m:<YYYY-MM>`, and `tenant:<tenant>`) | integer | micro-dollars spent + reserved | period end + 1 day |
 * | `sluice:inflight:key:<keyId>` | zset | reservation id -> lease expiry (ms) | one lease after the last admission |
 * | `sluice:resv:<reservationId>` | hash | `tokens`, `micros` reserved, until settled | lease + 1 hour |
 * | `<budget counter>:alerts` | hash | threshold (percent) -> ms it was crossed, so each alerts once | with its counter |
 * | `sluice:alerts:queue` | list | alerts (JSON) waiting for the cron trigger to send them | at most 10,000 |
 * | `sluice:tenant:<tenant>` | hash | `suspended`, `prepaid` ("1" when set): mirrored from the tenants table | never |
 * | `sluice:balance:<tenant>` | integer | prepaid micro-dollars available, in-flight reservations taken | never |
 */

const PREFIX = "sluice";

/** Whose counter: a single key, or every key of a tenant. */
export type Scope = { kind: "key"; id: string } | { kind: "tenant"; id: string };

const scopePart = (scope: Scope): string => `${scope.kind}:${scope.id}`;

/** Prefix handed to @upstash/ratelimit; it appends `:<identifier>:<window>`. */
export const RPM_PREFIX = `${PREFIX}:rpm`;

/** Identifier of a scope inside the request-rate limiter. */
export const rpmIdentifier = scopePart;

/**
 * Redis key marking an API key (`jti`) as revoked; its value is the ms timestamp from which it is refused.
 * @example revokedKeyName("key_123") // "sluice:revoked:key_123"
 */
export const revokedKeyName = (keyId: string): string => `${PREFIX}:revoked:${keyId}`;

/** True for names written by {@link revokedKeyName}, e.g. to scan or audit revocations. */
export const isRevokedKeyName = (name: string): boolean => name.startsWith(`${PREFIX}:revoked:`);

/** Token counter of one scope for the window numbered `window`. */
export const tokenBucketKey = (scope: Scope, window: number): string =>
  `${PREFIX}:tpm:${scopePart(scope)}:${window}`;

/** Micro-dollar counter of one scope for a budget period (`d:2026-01-31` or `m:2026-01`). */
export const budgetKey = (scope: Scope, period: string): string =>
  `${PREFIX}:budget:${scopePart(scope)}:${period}`;

/** In-flight requests of one key, a ZSET scored by lease expiry. */
export const inflightKey = (scope: Scope): string => `${PREFIX}:inflight:${scopePart(scope)}`;

/** What one admission reserved, so settlement gives back exactly that, once. */
export const reservationKey = (reservationId: string): string => `${PREFIX}:resv:${reservationId}`;

/** Marks which alert thresholds a budget counter already crossed in its period. */
export const budgetAlertMarkerKey = (counterKey: string): string => `${counterKey}:alerts`;

/** Alerts (JSON text) waiting to be sent; the cron trigger delivers them. */
export const ALERT_QUEUE_KEY = `${PREFIX}:alerts:queue`;

/**
 * The tenant's state the gate reads in its round trip (suspension, prepaid billing).
 * @example tenantStateKey("acme") // "sluice:tenant:acme"
 */
export const tenantStateKey = (tenant: string): string => `${PREFIX}:tenant:${tenant}`;

/**
 * The tenant's live prepaid balance in micro-dollars (Postgres's ledger is the record).
 * @example balanceKey("acme") // "sluice:balance:acme"
 */
export const balanceKey = (tenant: string): string => `${PREFIX}:balance:${tenant}`;
