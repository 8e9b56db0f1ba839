import type { NeonQueryFunction } from "@neondatabase/serverless";
import { type Column, getTableColumns } from "drizzle-orm";
import type { Database } from "../db/client";
import { usageEvents } from "../db/schema";
import type { UsageRow } from "./row";

/** The table's columns as [UsageRow key, column], from the drizzle schema so they cannot drift. */
const COLUMNS = Object.entries(getTableColumns(usageEvents)) as [keyof UsageRow, Column][];
const INSERT_HEAD = `insert into "usage_events" (${COLUMNS.map(([, c]) => `"${c.name}"`).join(", ")}) values `;
const INSERT_TAIL = ` on conflict ("request_id") do nothing`;

/**
 * Inserts rows in ONE multi-row statement; a request_id already stored is skipped, so retries,
 * spool flushes and timeouts that did land can never double a row. The statement is written by
 * hand: drizzle's query builder cost ~80 us of CPU per batch on the hot path, this a few.
 * @example await insertUsageRows(db, rows)
 */
export async function insertUsageRows(db: Database, rows: readonly UsageRow[]): Promise<void> {
  const unique = uniqueByRequestId(rows);
  if (!unique.length) return;
  const { text, params } = usageInsert(unique);
  await driverOf(db).query(text, params);
}

/**
 * True when Postgres answers a trivial query: tells an outage from a batch that fails on its own.
 * @example if (!(await databaseAnswers(db))) return // down: try again on the next run
 */
export async function databaseAnswers(db: Database): Promise<boolean> {
  try {
    await driverOf(db).query("select 1", []);
    return true;
  } catch {
    return false;
  }
}

/** The Neon SQL function under the drizzle client (drizzle's own type leaves `$client` out). */
function driverOf(db: Database): NeonQueryFunction<false, false> {
  return (db as Database & { $client: NeonQueryFunction<false, false> }).$client;
}

/**
 * The multi-row INSERT text with numbered placeholders, and its parameters encoded the way
 * drizzle encodes them (timestamps as ISO text, jsonb as JSON text).
 */
export function usageInsert(rows: readonly UsageRow[]): { text: string; params: unknown[] } {
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const placeholders: string[] = [];
    for (const [key, column] of COLUMNS) {
      const value = row[key];
      // A row spooled by an older deploy may lack a newer (nullable) column: undefined is null.
      placeholders.push(`$${params.push(value == null ? null : column.mapToDriverValue(value))}`);
    }
    tuples.push(`(${placeholders.join(", ")})`);
  }
  return { text: INSERT_HEAD + tuples.join(", ") + INSERT_TAIL, params };
}

/** The first row per request_id (a retry may queue the same request twice in one batch). */
export function uniqueByRequestId(rows: readonly UsageRow[]): UsageRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.requestId) && seen.add(row.requestId));
}
