import { lazily } from "../lazy";
import type { Database } from "./client";

/** The isolate's Postgres client, opened on first use. */
export type DatabaseHandle = () => Promise<Database>;

/**
 * Opens the drizzle/Neon client on first use: the driver, drizzle and the table definitions load
 * then, not while an isolate starts (with the admin API, ~10 ms before its first answer). Nothing on
 * the hot path waits for Postgres anyway: usage rows are written in waitUntil, and the admin API
 * and the cron come later.
 * @example const db = lazyDatabase(env.DATABASE_URL); await insertUsageRows(await db(), rows)
 */
export function lazyDatabase(databaseUrl: string, fetchEndpoint?: string): DatabaseHandle {
  return lazily(() => import("./client").then((client) => client.createDatabase(databaseUrl, fetchEndpoint)));
}
