import type { Redis } from "@upstash/redis/cloudflare";
import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type LedgerEntryRow, ledgerEntries, usageEvents } from "../db/schema";
import { balanceKey } from "../limits";

/** Manual and money-in entries; usage is derived from usage_events (see usageMicros). */
export type LedgerKind = "top_up" | "refund" | "adjustment";

/** A ledger entry as the admin API shows it; amounts in integer micro-dollars. */
export interface LedgerEntryView {
  id: number;
  object: "ledger_entry";
  tenant: string;
  kind: string;
  amount_micros: number;
  request_id: string | null;
  actor: string | null;
  reason: string | null;
  created_at: string;
}

/** @example ledgerView(row).amount_micros // 1000000 */
export function ledgerView(row: LedgerEntryRow): LedgerEntryView {
  return {
    id: row.id,
    object: "ledger_entry",
    tenant: row.tenant,
    kind: row.kind,
    amount_micros: row.amountMicros,
    request_id: row.requestId,
    actor: row.actor,
    reason: row.reason,
    created_at: row.createdAt.toISOString(),
  };
}

/**
 * The micro-dollars one usage row took from a balance: exactly what the gate settled, the row's
 * exact billed price rounded up to the micro-dollar (rows from before billed prices: their cost;
 * unpriced rows take nothing).
 */
export const USAGE_MICROS = sql<string>`coalesce(sum(ceil(coalesce(${usageEvents.billedUsd}, ${usageEvents.costUsd}) * 1000000)), 0)::bigint::text`;

/**
 * Appends one entry to Postgres (the record), then moves the live balance in Redis by the same
 * amount. A repeated idempotency key appends nothing and moves nothing: returns the first entry.
 * @example await appendEntry(db, redis, { tenant: "acme", kind: "top_up", amountMicros: 1_000_000, actor: "admin", reason: "invoice 42" })
 */
export async function appendEntry(
  db: Database,
  redis: Redis,
  entry: {
    tenant: string;
    kind: LedgerKind;
    amountMicros: number;
    actor: string | null;
    reason: string | null;
    idempotencyKey: string | null;
    at: Date;
  },
): Promise<{ row: LedgerEntryRow; created: boolean }> {
  const [inserted] = await db
    .insert(ledgerEntries)
    .values({
      tenant: entry.tenant,
      kind: entry.kind,
      amountMicros: entry.amountMicros,
      actor: entry.actor,
      reason: entry.reason,
      idempotencyKey: entry.idempotencyKey,
      createdAt: entry.at,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) {
    await redis.incrby(balanceKey(entry.tenant), entry.amountMicros);
    return { row: inserted, created: true };
  }
  const [first] = await db
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.tenant, entry.tenant),
        eq(ledgerEntries.idempotencyKey, entry.idempotencyKey ?? ""),
      ),
    )
    .limit(1);
  if (!first) throw new Error("ledger insert conflicted but no entry was found");
  return { row: first, created: false };
}

/** A tenant's entries, newest first, before the entry id `before` when given. */
export async function listEntries(
  db: Database,
  tenant: string,
  opts: { limit: number; before?: number },
): Promise<{ rows: LedgerEntryRow[]; hasMore: boolean }> {
  const rows = await db
    .select()
    .from(ledgerEntries)
    .where(
      and(
        eq(ledgerEntries.tenant, tenant),
        opts.before === undefined ? undefined : lt(ledgerEntries.id, opts.before),
      ),
    )
    .orderBy(desc(ledgerEntries.id))
    .limit(opts.limit + 1);
  return { rows: rows.slice(0, opts.limit), hasMore: rows.length > opts.limit };
}

/**
 * The balance as Postgres records it, in micro-dollars: every ledger entry, less the usage since
 * the tenant became prepaid (`since`; all of it when never), before `until`. Requests still in flight
 * are not in it yet.
 * @example await recordedBalance(db, "acme", tenant.prepaidSince)
 */
export async function recordedBalance(
  db: Database,
  tenant: string,
  since: Date | null,
  until?: Date,
): Promise<number> {
  const [ledger] = await db
    .select({ total: sql<string>`coalesce(sum(${ledgerEntries.amountMicros}), 0)::text` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.tenant, tenant), until && lt(ledgerEntries.createdAt, until)));
  const usage = await usageBetween(db, tenant, since ?? new Date(0), until);
  return Number(ledger?.total ?? 0) - usage;
}

/** Micro-dollars a tenant's usage rows took in [from, until) (until: no end). */
export async function usageBetween(db: Database, tenant: string, from: Date, until?: Date): Promise<number> {
  if (until && from >= until) return 0;
  const [row] = await db
    .select({ micros: USAGE_MICROS })
    .from(usageEvents)
    .where(
      and(
        eq(usageEvents.tenant, tenant),
        gte(usageEvents.createdAt, from),
        until && lt(usageEvents.createdAt, until),
      ),
    );
  return Number(row?.micros ?? 0);
}

/** The live balance the gate enforces (micro-dollars; in-flight reservations already taken). */
export async function liveBalance(redis: Redis, tenant: string): Promise<number> {
  return Number((await redis.get<string | number>(balanceKey(tenant))) ?? 0);
}
