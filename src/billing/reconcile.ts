import type { Redis } from "@upstash/redis/cloudflare";
import { eq, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { tenants } from "../db/schema";
import { balanceKey } from "../limits";
import type { Log } from "../log";
import { liveBalance, recordedBalance } from "./ledger";
import { mirrorTenant } from "./tenant-store";

/** Most tenants one cron run looks at: the rest wait for the next run. */
const MAX_TENANTS = 1000;

/** One prepaid tenant's two balances; `drift_micros` is recorded − live. */
export interface BalanceDrift {
  tenant: string;
  live_micros: number;
  recorded_micros: number;
  drift_micros: number;
}

/**
 * The cron trigger's reconciliation: mirrors every suspended or prepaid tenant's state to Redis
 * again (repairing a mirror write that failed), restores a prepaid balance Redis lost from the
 * ledger, and reports the drift between Redis (hot counter) and Postgres (the record). A drift is
 * normal while requests are in flight or their usage rows wait in the spool, so an existing counter
 * is never overwritten (that could free money a running request holds): every drift is logged
 * (`prepaid balance drift`), and one that lasts across runs is the operator's to settle.
 * @example await reconcileBalances(db, redis, log)
 */
export async function reconcileBalances(db: Database, redis: Redis, log: Log): Promise<BalanceDrift[]> {
  const rows = await db
    .select()
    .from(tenants)
    .where(or(eq(tenants.billingMode, "prepaid"), eq(tenants.status, "suspended")))
    .limit(MAX_TENANTS);
  const drifts: BalanceDrift[] = [];
  for (const row of rows) {
    await mirrorTenant(redis, row);
    if (row.billingMode !== "prepaid") continue;
    const recorded = await recordedBalance(db, row.id, row.prepaidSince);
    // Only a missing counter is restored: an existing one holds in-flight reservations Postgres can't see.
    await redis.set(balanceKey(row.id), recorded, { nx: true });
    const live = await liveBalance(redis, row.id);
    const drift = {
      tenant: row.id,
      live_micros: live,
      recorded_micros: recorded,
      drift_micros: recorded - live,
    };
    if (drift.drift_micros !== 0) log("warn", "prepaid balance drift", { ...drift });
    drifts.push(drift);
  }
  return drifts;
}
