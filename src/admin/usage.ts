import { type Context, type Env, Hono } from "hono";
import type { Database } from "../db/client";
import { errorResponse, GatewayError } from "../errors";
import type { Log } from "../log";
import { isStoreOutage, storeUnavailable } from "./store-outage";
import { usageCsvStream } from "./usage-csv";
import { parseAggregateParams, parseExportParams, parseListParams } from "./usage-params";
import { aggregateUsage, decodeCursor, encodeCursor, pageUsageRows } from "./usage-query";

export interface UsageRouteDeps<E extends Env = Env> {
  /** Resolved per request (e.g. from the parent app's services), so no client is built until an admin asks. */
  db: (c: Context<E>) => Promise<Database>;
  /** Milliseconds since the epoch (default Date.now): the default `to` of a range. */
  now?: () => number;
  log?: Log;
}

/**
 * The admin usage API as a sub-app; mount it under /admin behind the admin-token middleware:
 * - `GET /usage?from=&to=&group_by=tenant,key,model,provider,day,hour&tenant=&key_id=&model=&provider=&limit=`
 *   → `{ data: [{<group fields>, requests, errors, prompt_tokens, completion_tokens, cached_tokens,
 *   cost_usd, list_cost_usd, provider_savings_usd, billed_usd, margin_usd, p50_latency_ms, ...}],
 *   totals: {...}, truncated }`
 * - `GET /usage/export?format=csv&<same filters>` → CSV, one line per request, streamed
 * - `GET /usage/requests?limit=&cursor=&<same filters>` → `{ data: [rows], next_cursor, has_more }`, newest first
 * @example admin.route("/", usageRoutes<AppEnv>({ db: (c) => c.get("services").db() }))
 */
export function usageRoutes<E extends Env = Env>(deps: UsageRouteDeps<E>): Hono<E> {
  const app = new Hono<E>();
  const now = deps.now ?? Date.now;

  app.get("/usage", async (c) => {
    const params = parseAggregateParams(c.req.query(), now());
    const result = await aggregateUsage(await deps.db(c), params.filters, params.groupBy, params.limit);
    return c.json({
      object: "usage.aggregate",
      from: params.filters.from.toISOString(),
      to: params.filters.to.toISOString(),
      group_by: params.groupBy,
      ...result,
    });
  });

  app.get("/usage/export", async (c) => {
    const { filters } = parseExportParams(c.req.query(), now());
    const name = `usage-${filters.from.toISOString().slice(0, 10)}-${filters.to.toISOString().slice(0, 10)}.csv`;
    // The first page is read here, before any byte is sent: a failing store gets the 503 below.
    const csv = await usageCsvStream(await deps.db(c), filters, undefined, (message, error) =>
      deps.log?.("error", message, { error: describe(error) }),
    );
    return new Response(csv, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${name}"`,
        "cache-control": "no-store",
      },
    });
  });

  app.get("/usage/requests", async (c) => {
    const params = parseListParams(c.req.query(), now());
    const after = params.cursor ? decodeCursor(params.cursor) : null;
    // One extra row tells whether another page exists without a count query.
    const rows = await pageUsageRows(await deps.db(c), params.filters, {
      after,
      limit: params.limit + 1,
      order: "desc",
    });
    const data = rows.slice(0, params.limit);
    const hasMore = rows.length > params.limit;
    const last = data[data.length - 1];
    return c.json({
      object: "list",
      data,
      has_more: hasMore,
      next_cursor:
        hasMore && last ? encodeCursor({ createdAt: last.created_at, requestId: last.request_id }) : null,
    });
  });

  app.onError((err) => {
    if (err instanceof GatewayError) return errorResponse(err);
    deps.log?.("error", "admin usage query failed", { error: describe(err) });
    return errorResponse(isStoreOutage(err) ? storeUnavailable("usage") : err);
  });

  return app;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
