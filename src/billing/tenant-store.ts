import type { Redis } from "@upstash/redis/cloudflare";
import { desc, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { type TenantRow, tenants } from "../db/schema";
import { tenantStateKey } from "../limits";

/** How a tenant pays: `postpaid` is unlimited (as before tenants were records), `prepaid` needs a balance. */
export type BillingMode = "postpaid" | "prepaid";
export type TenantStatus = "active" | "suspended";

/** A tenant as the admin API shows it. */
export interface TenantView {
  id: string;
  object: "tenant";
  name: string | null;
  plan: string | null;
  status: string;
  billing_mode: string;
  prepaid_since: string | null;
  created_at: string;
  updated_at: string;
}

/** @example tenantView(row).billing_mode // "prepaid" */
export function tenantView(row: TenantRow): TenantView {
  return {
    id: row.id,
    object: "tenant",
    name: row.name,
    plan: row.plan,
    status: row.status,
    billing_mode: row.billingMode,
    prepaid_since: row.prepaidSince?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** One tenant by id, or null. */
export async function findTenant(db: Database, id: string): Promise<TenantRow | null> {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, id)).limit(1);
  return row ?? null;
}

/** Tenants, newest first; one extra row tells whether more exist. */
export async function listTenants(
  db: Database,
  limit: number,
): Promise<{ rows: TenantRow[]; hasMore: boolean }> {
  const rows = await db
    .select()
    .from(tenants)
    .orderBy(desc(tenants.createdAt), desc(tenants.id))
    .limit(limit + 1);
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** Inserts a tenant; null when the id is taken. */
export async function insertTenant(
  db: Database,
  row: typeof tenants.$inferInsert,
): Promise<TenantRow | null> {
  const [stored] = await db.insert(tenants).values(row).onConflictDoNothing().returning();
  return stored ?? null;
}

/** Updates a tenant's fields; null when it does not exist. */
export async function updateTenant(
  db: Database,
  id: string,
  changes: Partial<Pick<TenantRow, "name" | "plan" | "status" | "billingMode" | "prepaidSince">>,
  now: Date,
): Promise<TenantRow | null> {
  const [row] = await db
    .update(tenants)
    .set({ ...changes, updatedAt: now })
    .where(eq(tenants.id, id))
    .returning();
  return row ?? null;
}

/**
 * Mirrors what the gate enforces (suspension, prepaid billing) to the Redis hash its admission
 * script reads in the one round trip, so a change holds from the next request on.
 * @example await mirrorTenant(redis, row)
 */
export async function mirrorTenant(redis: Redis, row: TenantRow): Promise<void> {
  await redis.hset(tenantStateKey(row.id), {
    suspended: row.status === "suspended" ? "1" : "0",
    prepaid: row.billingMode === "prepaid" ? "1" : "0",
  });
}

/**
 * Makes sure a tenant row exists before a key of it is stored (keys belong to a tenant that
 * exists); a new one is postpaid and active, as tenants were before they were records.
 * @example await ensureTenant(db, "acme", new Date())
 */
export async function ensureTenant(db: Database, id: string, now: Date): Promise<void> {
  await db.insert(tenants).values({ id, createdAt: now, updatedAt: now }).onConflictDoNothing();
}
