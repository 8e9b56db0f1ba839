import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageEvents as u } from "../db/schema";
import { toBase64 } from "../encoding";
import { badRequest } from "../errors";
import { formatUsd, parseUsd } from "../metering/prices";
import { type GroupField, isCursorPosition, type UsageFilters } from "./usage-params";

/** Output name and SQL expression of each group_by field; day and hour are UTC. */
const GROUP_SQL: Record<GroupField, { name: string; expr: SQL }> = {
  tenant: { name: "tenant", expr: sql`${u.tenant}` },
  key: { name: "key_id", expr: sql`${u.keyId}` },
  model: { name: "model", expr: sql`${u.requestedModel}` },
  provider: { name: "provider", expr: sql`${u.provider}` },
  day: { name: "day", expr: sql`to_char(${u.createdAt} at time zone 'UTC', 'YYYY-MM-DD')` },
  hour: {
    name: "hour",
    expr: sql`to_char(date_trunc('hour', ${u.createdAt} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
  },
};

/** Aggregates of one group (or of everything, for totals). */
export interface UsageAggregate {
  requests: number;
  errors: number;
  unpriced_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  /** The part of cache_write_tokens written with Anthropic's 1-hour TTL. */
  cache_write_1h_tokens: number;
  /** Prompt tokens read from cache over all prompt tokens (0..1); null when there were none. */
  cache_hit_ratio: number | null;
  reasoning_tokens: number;
  /** Exact decimal USD as a string (a JSON number would round). Unpriced requests add nothing. */
  cost_usd: string;
  /** Exact USD the same usage costs at list price (before each provider's `cost_multiplier`). */
  list_cost_usd: string;
  /** list_cost_usd − cost_usd: what cheaper providers (relays, discounts) saved. */
  provider_savings_usd: string;
  /** Exact USD billed to tenants (plan or tenant prices; rows from before billed prices: their cost). */
  billed_usd: string;
  /** billed_usd − cost_usd: what reselling earned. */
  margin_usd: string;
  /**
   * Exact USD prompt caching saved: the prompts at input price, less what they cost with cache
   * reads and writes (negative while writes outweigh reads). Unpriced requests add nothing.
   */
  cache_savings_usd: string;
  /** Requests answered from the gateway's response cache (src/cache/), at cost 0. */
  response_cache_hits: number;
  /** response_cache_hits over all requests (0..1); null with no requests. */
  response_cache_hit_ratio: number | null;
  /** Exact USD the response cache saved: what its hits' answers cost when they were made. */
  response_cache_saved_usd: string;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
}

export type UsageGroupRow = Record<string, string | null> & UsageAggregate;

const AGGREGATES = sql`
  count(*) as requests,
  count(*) filter (where ${u.status} >= 400) as errors,
  count(*) filter (where ${u.unpriced}) as unpriced_requests,
  coalesce(sum(${u.promptTokens}), 0) as prompt_tokens,
  coalesce(sum(${u.completionTokens}), 0) as completion_tokens,
  coalesce(sum(${u.cachedReadTokens}), 0) as cached_tokens,
  coalesce(sum(${u.cacheWriteTokens}), 0) as cache_write_tokens,
  coalesce(sum(${u.cacheWrite1hTokens}), 0) as cache_write_1h_tokens,
  coalesce(sum(${u.cacheSavingsUsd}), 0)::text as cache_savings_usd,
  coalesce(sum(${u.reasoningTokens}), 0) as reasoning_tokens,
  coalesce(sum(${u.costUsd}), 0)::text as cost_usd,
  coalesce(sum(coalesce(${u.listCostUsd}, ${u.costUsd})), 0)::text as list_cost_usd,
  coalesce(sum(coalesce(${u.billedUsd}, ${u.costUsd})), 0)::text as billed_usd,
  count(*) filter (where ${u.cacheHit}) as response_cache_hits,
  coalesce(sum(${u.cacheSavedUsd}), 0)::text as response_cache_saved_usd,
  percentile_cont(0.5) within group (order by ${u.latencyMs}) as p50_latency_ms,
  percentile_cont(0.95) within group (order by ${u.latencyMs}) as p95_latency_ms`;

/** The WHERE clause for a time range and the optional filters (the model filter is the requested model). */
export function whereFilters(f: UsageFilters): SQL {
  const parts: SQL[] = [
    sql`${u.createdAt} >= ${f.from.toISOString()}`,
    sql`${u.createdAt} < ${f.to.toISOString()}`,
  ];
  if (f.tenant) parts.push(sql`${u.tenant} = ${f.tenant}`);
  if (f.keyId) parts.push(sql`${u.keyId} = ${f.keyId}`);
  if (f.model) parts.push(sql`${u.requestedModel} = ${f.model}`);
  if (f.provider) parts.push(sql`${u.provider} = ${f.provider}`);
  return sql.join(parts, sql` and `);
}

/**
 * Grouped aggregates and totals in ONE round trip (a batch). Time groups sort first in time
 * order, then groups by cost, dearest first (so group_by=key lists the top keys).
 * @example await aggregateUsage(db, filters, ["day", "model"], 1000)
 */
export async function aggregateUsage(
  db: Database,
  filters: UsageFilters,
  groupBy: GroupField[],
  limit: number,
): Promise<{ data: UsageGroupRow[]; totals: UsageAggregate; truncated: boolean }> {
  const where = whereFilters(filters);
  const groups = groupBy.map((field) => GROUP_SQL[field]);
  const selectGroups = groups.map((g) => sql`${g.expr} as ${sql.identifier(g.name)}, `);
  const timeOrder = groups
    .filter((g) => g.name === "day" || g.name === "hour")
    .map((g) => sql`${sql.identifier(g.name)}`);
  const order = sql.join(
    [
      ...timeOrder,
      sql`coalesce(sum(${u.costUsd}), 0) desc`,
      sql`count(*) desc`,
      ...groups.map((g) => sql`${sql.identifier(g.name)}`),
    ],
    sql`, `,
  );
  const groupClause = groups.length
    ? sql`group by ${sql.join(
        groups.map((g) => sql`${sql.identifier(g.name)}`),
        sql`, `,
      )}`
    : sql``;

  const [grouped, total] = await db.batch([
    db.execute(sql`select ${sql.join(selectGroups, sql``)}${AGGREGATES}
      from ${u} where ${where} ${groupClause} order by ${order} limit ${limit + 1}`),
    db.execute(sql`select ${AGGREGATES} from ${u} where ${where}`),
  ]);

  const rows = grouped.rows as Record<string, unknown>[];
  const data = rows.slice(0, limit).map((row) => {
    const out: Record<string, unknown> = {};
    for (const g of groups)
      out[g.name] = row[g.name] === null || row[g.name] === undefined ? null : String(row[g.name]);
    return { ...out, ...toAggregate(row) } as UsageGroupRow;
  });
  const totalRow = (total.rows as Record<string, unknown>[])[0] ?? {};
  return { data, totals: toAggregate(totalRow), truncated: rows.length > limit };
}

function toAggregate(row: Record<string, unknown>): UsageAggregate {
  return {
    requests: num(row.requests),
    errors: num(row.errors),
    unpriced_requests: num(row.unpriced_requests),
    prompt_tokens: num(row.prompt_tokens),
    completion_tokens: num(row.completion_tokens),
    cached_tokens: num(row.cached_tokens),
    cache_write_tokens: num(row.cache_write_tokens),
    cache_write_1h_tokens: num(row.cache_write_1h_tokens),
    cache_hit_ratio: hitRatio(num(row.cached_tokens), num(row.prompt_tokens)),
    reasoning_tokens: num(row.reasoning_tokens),
    cost_usd: formatUsd(parseUsd(String(row.cost_usd ?? "0"))),
    list_cost_usd: formatUsd(parseUsd(String(row.list_cost_usd ?? "0"))),
    provider_savings_usd: formatUsd(
      parseUsd(String(row.list_cost_usd ?? "0")) - parseUsd(String(row.cost_usd ?? "0")),
    ),
    billed_usd: formatUsd(parseUsd(String(row.billed_usd ?? "0"))),
    margin_usd: formatUsd(parseUsd(String(row.billed_usd ?? "0")) - parseUsd(String(row.cost_usd ?? "0"))),
    cache_savings_usd: formatUsd(parseUsd(String(row.cache_savings_usd ?? "0"))),
    response_cache_hits: num(row.response_cache_hits),
    response_cache_hit_ratio: hitRatio(num(row.response_cache_hits), num(row.requests)),
    response_cache_saved_usd: formatUsd(parseUsd(String(row.response_cache_saved_usd ?? "0"))),
    p50_latency_ms: nullableNum(row.p50_latency_ms),
    p95_latency_ms: nullableNum(row.p95_latency_ms),
  };
}

/** Cached over all prompt tokens, to 4 decimals; null with no prompt tokens. */
function hitRatio(cached: number, prompt: number): number | null {
  return prompt > 0 ? Math.round((cached / prompt) * 10_000) / 10_000 : null;
}

function num(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function nullableNum(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

/** One usage row as the admin API shows it (snake_case, exact cost, microsecond timestamp). */
export interface UsageEventJson {
  /** The gateway's id for the request. */
  request_id: string;
  /** The caller's own id (x-client-request-id or x-request-id), not unique; null if it sent none. */
  client_request_id: string | null;
  created_at: string;
  tenant: string;
  key_id: string;
  endpoint: string;
  requested_model: string | null;
  provider: string | null;
  upstream_model: string | null;
  stream: boolean;
  status: number;
  error_code: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  usage_source: string;
  cost_usd: string | null;
  /** At list price (before the provider's cost_multiplier); null when unpriced. */
  list_cost_usd: string | null;
  /** What the tenant was billed; null when unpriced. */
  billed_usd: string | null;
  unpriced: boolean;
  /** Answered from the response cache (src/cache/), at cost 0. */
  cache_hit: boolean;
  /** What a response-cache hit saved (the stored answer's cost); null for any other request. */
  cache_saved_usd: string | null;
  latency_ms: number;
  ttfb_ms: number | null;
  attempts: number;
  tags: Record<string, string> | null;
}

/** Keyset position: created_at with microseconds (as text, so no precision is lost) and request_id. */
export interface RowPosition {
  createdAt: string;
  requestId: string;
}

/**
 * One keyset page of raw rows. `order` asc walks forward in time (export), desc backward (listing).
 * @example await pageUsageRows(db, filters, { after: null, limit: 500, order: "asc" })
 */
export async function pageUsageRows(
  db: Database,
  filters: UsageFilters,
  page: { after: RowPosition | null; limit: number; order: "asc" | "desc" },
): Promise<UsageEventJson[]> {
  const cmp = page.order === "asc" ? sql`>` : sql`<`;
  const dir = page.order === "asc" ? sql`asc` : sql`desc`;
  const keyset = page.after
    ? sql` and (${u.createdAt}, ${u.requestId}) ${cmp} (${page.after.createdAt}::timestamptz, ${page.after.requestId})`
    : sql``;
  const result = await db.execute(sql`select
      ${u.requestId} as request_id, ${u.clientRequestId} as client_request_id,
      to_char(${u.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
      ${u.tenant} as tenant, ${u.keyId} as key_id, ${u.endpoint} as endpoint,
      ${u.requestedModel} as requested_model, ${u.provider} as provider, ${u.upstreamModel} as upstream_model,
      ${u.stream} as stream, ${u.status} as status, ${u.errorCode} as error_code,
      ${u.promptTokens} as prompt_tokens, ${u.completionTokens} as completion_tokens,
      ${u.cachedReadTokens} as cached_read_tokens, ${u.cacheWriteTokens} as cache_write_tokens,
      ${u.reasoningTokens} as reasoning_tokens, ${u.usageSource} as usage_source,
      ${u.costUsd}::text as cost_usd, coalesce(${u.listCostUsd}, ${u.costUsd})::text as list_cost_usd,
      coalesce(${u.billedUsd}, ${u.costUsd})::text as billed_usd,
      ${u.unpriced} as unpriced, ${u.latencyMs} as latency_ms,
      ${u.cacheHit} as cache_hit, ${u.cacheSavedUsd}::text as cache_saved_usd,
      ${u.ttfbMs} as ttfb_ms, ${u.attempts} as attempts, ${u.tags} as tags
    from ${u}
    where ${whereFilters(filters)}${keyset}
    order by ${u.createdAt} ${dir}, ${u.requestId} ${dir}
    limit ${page.limit}`);
  return (result.rows as Record<string, unknown>[]).map(toEventJson);
}

function toEventJson(row: Record<string, unknown>): UsageEventJson {
  const tags = typeof row.tags === "string" ? (JSON.parse(row.tags) as Record<string, string>) : row.tags;
  return {
    request_id: String(row.request_id),
    client_request_id: (row.client_request_id as string | null) ?? null,
    created_at: String(row.created_at),
    tenant: String(row.tenant),
    key_id: String(row.key_id),
    endpoint: String(row.endpoint),
    requested_model: (row.requested_model as string | null) ?? null,
    provider: (row.provider as string | null) ?? null,
    upstream_model: (row.upstream_model as string | null) ?? null,
    stream: row.stream === true || row.stream === "t",
    status: num(row.status),
    error_code: (row.error_code as string | null) ?? null,
    prompt_tokens: num(row.prompt_tokens),
    completion_tokens: num(row.completion_tokens),
    cached_read_tokens: num(row.cached_read_tokens),
    cache_write_tokens: num(row.cache_write_tokens),
    reasoning_tokens: num(row.reasoning_tokens),
    usage_source: String(row.usage_source),
    cost_usd: exactUsd(row.cost_usd),
    list_cost_usd: exactUsd(row.list_cost_usd),
    billed_usd: exactUsd(row.billed_usd),
    unpriced: row.unpriced === true || row.unpriced === "t",
    cache_hit: row.cache_hit === true || row.cache_hit === "t",
    cache_saved_usd: exactUsd(row.cache_saved_usd),
    latency_ms: num(row.latency_ms),
    ttfb_ms: nullableNum(row.ttfb_ms),
    attempts: num(row.attempts),
    tags: (tags as Record<string, string> | null) ?? null,
  };
}

/** An exact USD column as trimmed decimal text; null stays null. */
const exactUsd = (value: unknown): string | null =>
  value === null || value === undefined ? null : formatUsd(parseUsd(String(value)));

/** Opaque cursor for the listing: base64url of the last row's position. */
export function encodeCursor(position: RowPosition): string {
  const bytes = new TextEncoder().encode(JSON.stringify([position.createdAt, position.requestId]));
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes a cursor or throws a 400 naming `cursor`. */
export function decodeCursor(cursor: string): RowPosition {
  try {
    const b64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
    const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const value: unknown = JSON.parse(text);
    // Every field is checked: the cursor comes back from the caller, who can write any JSON into it.
    if (Array.isArray(value) && value.length === 2 && isCursorPosition(value[0], value[1])) {
      return { createdAt: value[0] as string, requestId: value[1] as string };
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest(
    "Invalid query parameter 'cursor': not a cursor this API returned.",
    "cursor",
    "invalid_value",
  );
}
