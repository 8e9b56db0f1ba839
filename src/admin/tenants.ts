import { type Context, Hono } from "hono";
import * as z from "zod";
import { appendEntry, ledgerView, listEntries, liveBalance, recordedBalance } from "../billing/ledger";
import { buildStatement, type Statement, statementCsv } from "../billing/statement";
import { statementHtml } from "../billing/statement-html";
import {
  findTenant,
  insertTenant,
  listTenants,
  mirrorTenant,
  tenantView,
  updateTenant,
} from "../billing/tenant-store";
import type { AppEnv } from "../context";
import type { TenantRow } from "../db";
import { GatewayError, notFound } from "../errors";
import { readJsonBody } from "../proxy/body";
import type { Services } from "../services";
import { parseOrThrow } from "./key-params";
import {
  AdjustBody,
  CreateTenantBody,
  isTenantId,
  LedgerQuery,
  ListTenantsQuery,
  StatementQuery,
  TopUpBody,
  UpdateTenantBody,
} from "./tenants-params";

const MAX_BODY_BYTES = 16 * 1024;
const JsonObject = z.custom<Record<string, unknown>>();

/**
 * Tenants and their money under /admin/tenants (behind the admin token):
 * - `POST /` creates, `GET /` lists, `GET /{id}` reads, `PATCH /{id}` updates (`status:
 *   "suspended"` refuses every key of the tenant from the next request on, 403);
 * - `POST /{id}/top-up`, `POST /{id}/adjustments` append to the ledger and move the live balance;
 * - `GET /{id}/balance`, `GET /{id}/ledger?limit=&before=`,
 *   `GET /{id}/statement?month=YYYY-MM&format=json|csv|html` (no format: HTML for `Accept: text/html`).
 * @example admin.route("/tenants", tenantRoutes())
 */
export function tenantRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/", async (c) => {
    const services = c.get("services");
    const body = parseOrThrow(CreateTenantBody, await readBody(c.req.raw));
    const now = new Date(services.now());
    const row = await insertTenant(await services.db(), {
      id: body.id,
      name: body.name ?? null,
      plan: body.plan ?? null,
      billingMode: body.billing_mode,
      prepaidSince: body.billing_mode === "prepaid" ? now : null,
      createdAt: now,
      updatedAt: now,
    });
    if (!row) throw conflict("A tenant with that id already exists.", "tenant_exists");
    await mirror(services, row);
    return c.json(tenantView(row), 201);
  });

  app.get("/", async (c) => {
    const query = parseOrThrow(ListTenantsQuery, c.req.query());
    const { rows, hasMore } = await listTenants(await c.get("services").db(), query.limit);
    return c.json({ object: "list", data: rows.map(tenantView), has_more: hasMore });
  });

  app.get("/:id", async (c) => c.json(tenantView(await existingTenant(c))));

  app.patch("/:id", async (c) => {
    const services = c.get("services");
    const body = parseOrThrow(UpdateTenantBody, await readBody(c.req.raw));
    const old = await existingTenant(c);
    const now = new Date(services.now());
    const becomesPrepaid = body.billing_mode === "prepaid" && old.billingMode !== "prepaid";
    const row = await updateTenant(
      await services.db(),
      old.id,
      {
        name: body.name,
        plan: body.plan,
        status: body.status,
        billingMode: body.billing_mode,
        prepaidSince: becomesPrepaid ? now : body.billing_mode === "postpaid" ? null : undefined,
      },
      now,
    );
    if (!row) throw notFound("No tenant with that id.", "tenant_not_found");
    await mirror(services, row);
    return c.json(tenantView(row));
  });

  moneyRoutes(app);
  return app;
}

/** The balance, the ledger and statements of one tenant. */
function moneyRoutes(app: Hono<AppEnv>): void {
  app.post("/:id/top-up", async (c) => {
    const body = parseOrThrow(TopUpBody, await readBody(c.req.raw));
    return append(c, { ...body, kind: "top_up" });
  });

  app.post("/:id/adjustments", async (c) => {
    const body = parseOrThrow(AdjustBody, await readBody(c.req.raw));
    return append(c, body);
  });

  app.get("/:id/balance", async (c) => {
    const services = c.get("services");
    const tenant = await existingTenant(c);
    const [live, recorded] = await Promise.all([
      liveBalance(services.redis, tenant.id),
      recordedBalance(await services.db(), tenant.id, tenant.prepaidSince),
    ]);
    return c.json({
      object: "balance",
      tenant: tenant.id,
      billing_mode: tenant.billingMode,
      live_micros: live,
      recorded_micros: recorded,
      // Requests in flight (reserved, not yet recorded) and settlements not yet written.
      unrecorded_micros: recorded - live,
    });
  });

  app.get("/:id/ledger", async (c) => {
    const query = parseOrThrow(LedgerQuery, c.req.query());
    const tenant = await existingTenant(c);
    const { rows, hasMore } = await listEntries(await c.get("services").db(), tenant.id, query);
    return c.json({ object: "list", data: rows.map(ledgerView), has_more: hasMore });
  });

  app.get("/:id/statement", async (c) => {
    const query = parseOrThrow(StatementQuery, c.req.query());
    const tenant = await existingTenant(c);
    const statement = await buildStatement(await c.get("services").db(), tenant, query.month);
    if (!statement) throw notFound("No such month.", "month_not_found");
    const format = query.format ?? (/\btext\/html\b/i.test(c.req.header("accept") ?? "") ? "html" : "json");
    if (format === "json") return c.json(statement);
    if (format === "html") return printable(c, statement);
    c.header("content-type", "text/csv; charset=utf-8");
    c.header("content-disposition", `attachment; filename="statement-${query.month}.csv"`);
    return c.body(statementCsv(statement));
  });
}

/** The printable page: no script may run, its one style by nonce; never cached or framed. */
function printable(c: Context<AppEnv>, statement: Statement): Response {
  const nonce = crypto.randomUUID().replace(/-/g, "");
  return c.html(statementHtml(statement, nonce), 200, {
    "content-security-policy": `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  });
}

async function append(
  c: Context<AppEnv>,
  entry: {
    kind: "top_up" | "refund" | "adjustment";
    amount_micros: number;
    reason?: string;
    actor?: string;
    idempotency_key?: string;
  },
): Promise<Response> {
  const services = c.get("services");
  const tenant = await existingTenant(c);
  const { row, created } = await appendEntry(await services.db(), services.redis, {
    tenant: tenant.id,
    kind: entry.kind,
    amountMicros: entry.amount_micros,
    actor: entry.actor ?? "admin",
    reason: entry.reason ?? null,
    idempotencyKey: entry.idempotency_key ?? null,
    at: new Date(services.now()),
  });
  return c.json(ledgerView(row), created ? 201 : 200);
}

/** Mirrors the tenant's state to Redis; the change is recorded, so a retry of the call re-mirrors. */
async function mirror(services: Services, row: TenantRow): Promise<void> {
  try {
    await mirrorTenant(services.redis, row);
  } catch {
    services.log("error", "could not mirror tenant state", { tenant: row.id });
    throw new GatewayError({
      status: 503,
      type: "server_error",
      message:
        "The tenant was saved but the limits store is unreachable, so the gateway may not enforce it yet. Repeat the request shortly.",
      code: "tenant_state_unavailable",
      headers: { "retry-after": "1" },
    });
  }
}

async function existingTenant(c: Context<AppEnv>): Promise<TenantRow> {
  const id = c.req.param("id") ?? "";
  const row = isTenantId(id) ? await findTenant(await c.get("services").db(), id) : null;
  if (!row) throw notFound("No tenant with that id.", "tenant_not_found");
  return row;
}

const conflict = (message: string, code: string) =>
  new GatewayError({ status: 409, type: "invalid_request_error", message, code });

async function readBody(request: Request): Promise<Record<string, unknown>> {
  if (request.body === null) return {};
  return readJsonBody(request, JsonObject, MAX_BODY_BYTES);
}
