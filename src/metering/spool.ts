import type { Redis } from "@upstash/redis/cloudflare";
import type { Database } from "../db/client";
import { insertUsageRows, isPermanentDbError } from "./insert";
import { deserializeRow, serializeRow, type UsageRow } from "./row";

/** The Redis commands the spool uses; any @upstash/redis client fits. */
export type SpoolRedis = Pick<Redis, "eval" | "lrange" | "ltrim" | "llen" | "set">;

export const SPOOL_KEY = "sluice:usage:spool";
/** Rows no insert accepts (bad data): kept aside for an operator instead of blocking the spool. */
export const DEAD_LETTER_KEY = "sluice:usage:spool:dead";
const LOCK_KEY = "sluice:usage:spool:lock";
/** Redis must stay bounded: past this many rows the spool refuses more (and the writer logs them). */
export const SPOOL_MAX_ROWS = 200_000;

/**
 * Appends only while the list has room, so the head of the list never moves under a flusher
 * (a flusher removes exactly the rows it read, from the head). Returns how many were appended.
 */
const BOUNDED_PUSH = `
local room = tonumber(ARGV[1]) - redis.call('LLEN', KEYS[1])
local n = math.min(math.max(room, 0), #ARGV - 1)
for i = 2, n + 1 do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return n`;

/** Deletes the lock only if this flusher still holds it (its lease may have expired). */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Spools rows to the Redis list; returns how many did not fit (0 normally).
 * @example const overflow = await spoolRows(redis, rows)
 */
export async function spoolRows(
  redis: SpoolRedis,
  rows: readonly UsageRow[],
  maxRows = SPOOL_MAX_ROWS,
): Promise<number> {
  if (!rows.length) return 0;
  const appended = Number(
    await redis.eval(BOUNDED_PUSH, [SPOOL_KEY], [String(maxRows), ...rows.map(serializeRow)]),
  );
  return rows.length - appended;
}

export interface FlushSpoolOptions {
  /** Rows per INSERT (default 500). */
  batchRows?: number;
  /** Upper bound on rows moved in one run, so a cron invocation stays short (default 50,000). */
  maxRows?: number;
  /** How long the flush lease lasts (default 120 s); another flusher waits for the next run. */
  leaseMs?: number;
  log?: (level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) => void;
}

export interface FlushSpoolResult {
  /** Rows read from the spool and handed to Postgres (ON CONFLICT skips those already stored). */
  flushed: number;
  /** Rows moved to the dead-letter list because Postgres refused them. */
  deadLettered: number;
  /** Rows still spooled after this run. */
  remaining: number;
  /** True when another flusher held the lease and this run did nothing. */
  skipped: boolean;
}

/**
 * Moves spooled rows into Postgres, for the worker's `scheduled` handler. Reads a batch from the
 * head (LRANGE), inserts it idempotently, then removes exactly that many rows (LTRIM): a crash
 * between the two re-inserts the batch next time and ON CONFLICT (request_id) makes that a no-op,
 * so nothing is lost and nothing doubled. A lease keeps two flushers from trimming each other's rows.
 * @example ctx.waitUntil(flushSpool(db, redis))
 */
export async function flushSpool(
  db: Database,
  redis: SpoolRedis,
  opts: FlushSpoolOptions = {},
): Promise<FlushSpoolResult> {
  const batchRows = opts.batchRows ?? 500;
  const maxRows = opts.maxRows ?? 50_000;
  const token = crypto.randomUUID();
  const leased = await redis.set(LOCK_KEY, token, { nx: true, px: opts.leaseMs ?? 120_000 });
  if (leased !== "OK")
    return { flushed: 0, deadLettered: 0, remaining: await redis.llen(SPOOL_KEY), skipped: true };

  let flushed = 0;
  let deadLettered = 0;
  try {
    while (flushed < maxRows) {
      const items = await redis.lrange<unknown>(SPOOL_KEY, 0, Math.min(batchRows, maxRows - flushed) - 1);
      if (!items.length) break;
      const rows: UsageRow[] = [];
      for (const item of items) {
        const row = deserializeRow(item);
        if (row) rows.push(row);
        else
          opts.log?.("error", "malformed usage row in spool, dropped", { item: String(item).slice(0, 200) });
      }
      deadLettered += await insertOrDeadLetter(db, redis, rows, opts.log);
      await redis.ltrim(SPOOL_KEY, items.length, -1);
      flushed += items.length;
    }
  } finally {
    await redis.eval(RELEASE_LOCK, [LOCK_KEY], [token]).catch(() => {});
  }
  const remaining = await redis.llen(SPOOL_KEY);
  if (flushed) opts.log?.("info", "usage spool flushed", { flushed, deadLettered, remaining });
  return { flushed, deadLettered, remaining, skipped: false };
}

/**
 * Inserts a batch; if Postgres refuses it for its data, inserts row by row and sets aside only
 * the rows it refuses. Connection failures throw: the batch stays spooled for the next run.
 */
async function insertOrDeadLetter(
  db: Database,
  redis: SpoolRedis,
  rows: UsageRow[],
  log: FlushSpoolOptions["log"],
): Promise<number> {
  try {
    await insertUsageRows(db, rows);
    return 0;
  } catch (error) {
    if (!isPermanentDbError(error)) throw error;
  }
  const refused: UsageRow[] = [];
  for (const row of rows) {
    try {
      await insertUsageRows(db, [row]);
    } catch (error) {
      if (!isPermanentDbError(error)) throw error;
      refused.push(row);
    }
  }
  if (refused.length) {
    await spoolTo(redis, DEAD_LETTER_KEY, refused);
    log?.("error", "usage rows refused by Postgres, moved to dead letter", {
      requestIds: refused.map((row) => row.requestId),
    });
  }
  return refused.length;
}

async function spoolTo(redis: SpoolRedis, key: string, rows: UsageRow[]): Promise<void> {
  await redis.eval(BOUNDED_PUSH, [key], [String(SPOOL_MAX_ROWS), ...rows.map(serializeRow)]);
}
