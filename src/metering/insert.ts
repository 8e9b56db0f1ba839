import type { Database } from "../db/client";
import { usageEvents } from "../db/schema";
import type { UsageRow } from "./row";

/**
 * Inserts rows in ONE multi-row statement; a request_id already stored is skipped, so retries,
 * spool flushes and timeouts that did land can never double a row.
 * @example await insertUsageRows(db, rows)
 */
export async function insertUsageRows(db: Database, rows: readonly UsageRow[]): Promise<void> {
  const unique = uniqueByRequestId(rows);
  if (!unique.length) return;
  await db.insert(usageEvents).values(unique).onConflictDoNothing({ target: usageEvents.requestId });
}

/** The first row per request_id (a retry may queue the same request twice in one batch). */
export function uniqueByRequestId(rows: readonly UsageRow[]): UsageRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.requestId) && seen.add(row.requestId));
}

/**
 * A Postgres error no retry can fix (bad data, constraint, missing table): SQLSTATE classes
 * 22, 23 and 42. Anything else (connection, timeout, 5xx) is worth retrying.
 */
export function isPermanentDbError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|42)/.test(code);
}
