import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * One row per authenticated request, keyed by request_id: an id the gateway generates, so a
 * retried insert never doubles a row and no caller can make two requests share one.
 */
export const usageEvents = pgTable(
  "usage_events",
  {
    requestId: text("request_id").primaryKey(),
    /** The caller's own id (x-client-request-id or x-request-id): at most 128 printable ASCII, not unique. */
    clientRequestId: text("client_request_id"),
    tenant: text("tenant").notNull(),
    keyId: text("key_id").notNull(),
    endpoint: text("endpoint").notNull(),
    requestedModel: text("requested_model"),
    provider: text("provider"),
    upstreamModel: text("upstream_model"),
    stream: boolean("stream").notNull().default(false),
    status: integer("status").notNull(),
    errorCode: text("error_code"),
    promptTokens: integer("prompt_tokens").notNull().default(0),
    completionTokens: integer("completion_tokens").notNull().default(0),
    cachedReadTokens: integer("cached_read_tokens").notNull().default(0),
    /** Every cache write (5-minute and 1-hour); the 1-hour ones again in cache_write_1h_tokens. */
    cacheWriteTokens: integer("cache_write_tokens").notNull().default(0),
    /** The part of cache_write_tokens written with Anthropic's 1-hour TTL (priced apart). */
    cacheWrite1hTokens: integer("cache_write_1h_tokens").notNull().default(0),
    reasoningTokens: integer("reasoning_tokens").notNull().default(0),
    /** `provider` when the upstream reported usage, `estimated` when the gateway counted. */
    usageSource: text("usage_source").notNull().default("provider"),
    /** Exact decimal USD; null when the model has no price (then `unpriced` is true). */
    costUsd: numeric("cost_usd", { precision: 20, scale: 12 }),
    unpriced: boolean("unpriced").notNull().default(false),
    /** Exact USD prompt caching saved (negative while writes outweigh reads); null when unpriced. */
    cacheSavingsUsd: numeric("cache_savings_usd", { precision: 20, scale: 12 }),
    /** Exact USD at list price; cost_usd is it times the provider's cost_multiplier. Null when unpriced. */
    listCostUsd: numeric("list_cost_usd", { precision: 20, scale: 12 }),
    /**
     * Exact USD the tenant is billed (its plan's or its own price; a cache hit bills 0): what a
     * prepaid balance is charged, rounded up to the micro-dollar. Null when unpriced, and on rows
     * from before billed prices (read as cost_usd).
     */
    billedUsd: numeric("billed_usd", { precision: 20, scale: 12 }),
    /** Answered from the gateway's response cache (src/cache/): no upstream call, cost 0. */
    cacheHit: boolean("cache_hit").notNull().default(false),
    /** For a cache hit, the exact USD the stored answer cost when it was made: what the hit saved. */
    cacheSavedUsd: numeric("cache_saved_usd", { precision: 20, scale: 12 }),
    latencyMs: integer("latency_ms").notNull().default(0),
    ttfbMs: integer("ttfb_ms"),
    attempts: integer("attempts").notNull().default(0),
    tags: jsonb("tags").$type<Record<string, string>>(),
    /** The route the caller named when a budget downgrade (`downgrade_at`) served another; else null. */
    downgradedFrom: text("downgraded_from"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("usage_events_tenant_time").on(t.tenant, t.createdAt),
    index("usage_events_key_time").on(t.keyId, t.createdAt),
    index("usage_events_model_time").on(t.requestedModel, t.createdAt),
    index("usage_events_time").on(t.createdAt),
  ],
);

/** Metadata of minted keys (id = the token's jti). Never the token itself. */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenant: text("tenant").notNull(),
    name: text("name"),
    scopes: jsonb("scopes").$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    models: jsonb("models").$type<string[]>().notNull().default(sql`'["*"]'::jsonb`),
    plan: text("plan"),
    limits: jsonb("limits").$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
    signingKid: text("signing_kid"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    rotatedFrom: text("rotated_from"),
    /** For a rotated-away key: the moment its grace period ends. */
    graceEndsAt: timestamp("grace_ends_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("api_keys_tenant").on(t.tenant, t.createdAt)],
);

/**
 * Responses API answers kept for `previous_response_id` and `GET /v1/responses/{id}` (those created
 * with `store` not false), readable by their tenant only until `expires_at`. `id` is the gateway's
 * own (`resp_` + the request id), never a caller's or a provider's.
 */
export const storedResponses = pgTable(
  "stored_responses",
  {
    id: text("id").primaryKey(),
    tenant: text("tenant").notNull(),
    keyId: text("key_id").notNull(),
    /** Every input item of the turn, the earlier turns' items and outputs first. */
    inputItems: jsonb("input_items").$type<unknown[]>().notNull(),
    /** The Response object as the caller got it. */
    response: jsonb("response").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    index("stored_responses_tenant_time").on(t.tenant, t.createdAt),
    index("stored_responses_expiry").on(t.expiresAt),
  ],
);

/**
 * Tenants as records. `status` is `active` or `suspended`; `billing_mode` is `postpaid` (no balance,
 * as before) or `prepaid` (requests need a balance). The gate reads a Redis mirror of both.
 */
export const tenants = pgTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name"),
  plan: text("plan"),
  status: text("status").notNull().default("active"),
  billingMode: text("billing_mode").notNull().default("postpaid"),
  /** When the tenant last became prepaid: its balance counts usage from then on. */
  prepaidSince: timestamp("prepaid_since", { withTimezone: true, mode: "date" }),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Append-only money movements of a tenant, in integer micro-dollars (positive adds to the balance):
 * `top_up`, `refund`, `adjustment` (manual: `actor` and `reason` say who and why). Usage is derived
 * from usage_events (each priced row takes ceil(cost_usd in micro-dollars), as the gate settled it).
 * `idempotency_key` makes a retried top-up count once.
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenant: text("tenant").notNull(),
    kind: text("kind").notNull(),
    amountMicros: bigint("amount_micros", { mode: "number" }).notNull(),
    requestId: text("request_id"),
    actor: text("actor"),
    reason: text("reason"),
    idempotencyKey: text("idempotency_key"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("ledger_entries_tenant_time").on(t.tenant, t.createdAt),
    uniqueIndex("ledger_entries_idempotency").on(t.tenant, t.idempotencyKey),
  ],
);

export type UsageEventRow = typeof usageEvents.$inferInsert;
export type TenantRow = typeof tenants.$inferSelect;
export type LedgerEntryRow = typeof ledgerEntries.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
