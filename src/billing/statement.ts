import { and, asc, eq, gte, lt, sql } from "drizzle-orm";
import { csvLine } from "../admin/usage-csv";
import type { Database } from "../db/client";
import { ledgerEntries, type TenantRow, usageEvents } from "../db/schema";
import { recordedBalance, USAGE_MICROS, usageBetween } from "./ledger";

/** One model's usage in the month; `billed_micros` is what its requests took from the balance. */
export interface StatementLine {
  model: string | null;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  billed_micros: number;
}

/**
 * A tenant's monthly statement, in integer micro-dollars:
 * opening + top_ups − usage + refunds + adjustments = closing, exactly. Usage is at the billed
 * price (each request's, rounded up to the micro-dollar as the gate charged it).
 */
export interface Statement {
  object: "statement";
  tenant: string;
  /** The tenant's display name (operator-set text: escape it wherever it is shown). */
  tenant_name: string | null;
  month: string;
  opening_balance_micros: number;
  top_ups_micros: number;
  usage_micros: number;
  refunds_micros: number;
  adjustments_micros: number;
  closing_balance_micros: number;
  lines: StatementLine[];
}

/** The UTC bounds of `YYYY-MM`; null for a month that does not exist. */
export function monthBounds(month: string): { from: Date; until: Date } | null {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!match) return null;
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { from: new Date(Date.UTC(year, index, 1)), until: new Date(Date.UTC(year, index + 1, 1)) };
}

/**
 * Builds the statement of `tenant` for one UTC month from the ledger and the usage rows (usage
 * counts from the moment the tenant became prepaid, as its balance does).
 * @example await buildStatement(db, tenantRow, "2026-11")
 */
export async function buildStatement(
  db: Database,
  tenant: TenantRow,
  month: string,
): Promise<Statement | null> {
  const bounds = monthBounds(month);
  if (!bounds) return null;
  const since = tenant.prepaidSince ?? new Date(0);
  const usageFrom = new Date(Math.max(since.getTime(), bounds.from.getTime()));
  const [opening, sums, usage, lines] = await Promise.all([
    recordedBalance(db, tenant.id, since, bounds.from),
    ledgerSums(db, tenant.id, bounds.from, bounds.until),
    usageBetween(db, tenant.id, usageFrom, bounds.until),
    modelLines(db, tenant.id, usageFrom, bounds.until),
  ]);
  return {
    object: "statement",
    tenant: tenant.id,
    tenant_name: tenant.name,
    month,
    opening_balance_micros: opening,
    top_ups_micros: sums.top_up,
    usage_micros: usage,
    refunds_micros: sums.refund,
    adjustments_micros: sums.adjustment,
    closing_balance_micros: opening + sums.top_up - usage + sums.refund + sums.adjustment,
    lines,
  };
}

async function ledgerSums(
  db: Database,
  tenant: string,
  from: Date,
  until: Date,
): Promise<{ top_up: number; refund: number; adjustment: number }> {
  const rows = await db
    .select({ kind: ledgerEntries.kind, total: sql<string>`sum(${ledgerEntries.amountMicros})::text` })
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.tenant, tenant),
        gte(ledgerEntries.createdAt, from),
        lt(ledgerEntries.createdAt, until),
      ),
    )
    .groupBy(ledgerEntries.kind);
  const sums = { top_up: 0, refund: 0, adjustment: 0 };
  for (const row of rows) {
    if (row.kind === "top_up" || row.kind === "refund" || row.kind === "adjustment")
      sums[row.kind] = Number(row.total);
  }
  return sums;
}

async function modelLines(db: Database, tenant: string, from: Date, until: Date): Promise<StatementLine[]> {
  if (from >= until) return [];
  const rows = await db
    .select({
      model: usageEvents.requestedModel,
      requests: sql<string>`count(*)::text`,
      prompt: sql<string>`coalesce(sum(${usageEvents.promptTokens}), 0)::text`,
      completion: sql<string>`coalesce(sum(${usageEvents.completionTokens}), 0)::text`,
      micros: USAGE_MICROS,
    })
    .from(usageEvents)
    .where(
      and(eq(usageEvents.tenant, tenant), gte(usageEvents.createdAt, from), lt(usageEvents.createdAt, until)),
    )
    .groupBy(usageEvents.requestedModel)
    .orderBy(asc(usageEvents.requestedModel));
  return rows.map((row) => ({
    model: row.model,
    requests: Number(row.requests),
    prompt_tokens: Number(row.prompt),
    completion_tokens: Number(row.completion),
    billed_micros: Number(row.micros),
  }));
}

/**
 * The statement as CSV: one row per model, then the balance rows (micro-dollars).
 * @example statementCsv(statement).split("\n")[0] // "section,model,requests,..."
 */
export function statementCsv(s: Statement): string {
  const rows: (string | number | null)[][] = [
    ["section", "model", "requests", "prompt_tokens", "completion_tokens", "micros"],
  ];
  for (const line of s.lines) {
    rows.push([
      "usage",
      line.model,
      line.requests,
      line.prompt_tokens,
      line.completion_tokens,
      line.billed_micros,
    ]);
  }
  rows.push(["opening_balance", null, null, null, null, s.opening_balance_micros]);
  rows.push(["top_ups", null, null, null, null, s.top_ups_micros]);
  rows.push(["usage_total", null, null, null, null, s.usage_micros]);
  rows.push(["refunds", null, null, null, null, s.refunds_micros]);
  rows.push(["adjustments", null, null, null, null, s.adjustments_micros]);
  rows.push(["closing_balance", null, null, null, null, s.closing_balance_micros]);
  return rows.map(csvLine).join("");
}
