import type { Redis } from "@upstash/redis/cloudflare";
import type { Database } from "../db/client";
import type { Log } from "../log";
import { classifyDbError, describeDbError, refusalReason } from "./db-errors";
import { BOUNDED_PUSH, DEAD_LETTER_KEY, DEAD_LETTER_MAX_ENTRIES, deadLetter } from "./dead-letter";
import { storeIsolating } from "./isolate";
import { readSpoolEntry, type SpoolEntry, serializeRow, type UsageRow } from "./row";

/** The Redis commands the spool uses; any @upstash/redis client fits. */
export type SpoolRedis = Pick<Redis, "eval" | "lrange" | "ltrim" | "llen" | "set">;

export const SPOOL_KEY = "sluice:usage:spool";
const LOCK_KEY = "sluice:usage:spool:lock";
/** Redis must stay bounded: past this many rows the spool refuses more (and the writer logs them). */
export const SPOOL_MAX_ROWS = 200_000;

/** Flushes that may fail on one entry (stored alone, Postgres answering) before it is dead-lettered. */
export const MAX_FLUSH_FAILURES = 3;

/**
 * Settles one batch read from the head, atomically, so a crash can neither lose nor repeat it:
 * removes it (LTRIM), appends its dead letters within their bound and puts the entries to try
 * again at the tail (they were in the list a moment ago, so they need no room check).
 * KEYS: spool, dead letters. ARGV: entries read, dead-letter bound, dead-letter count, the dead
 * letters, then the entries to requeue. Returns how many dead letters were kept.
 */
const SETTLE_BATCH = `
redis.call('LTRIM', KEYS[1], tonumber(ARGV[1]), -1)
local dead = tonumber(ARGV[3])
local room = tonumber(ARGV[2]) - redis.call('LLEN', KEYS[2])
local kept = math.min(math.max(room, 0), dead)
for i = 4, 3 + kept do redis.call('RPUSH', KEYS[2], ARGV[i]) end
for i = 4 + dead, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return kept`;

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
    await redis.eval(BOUNDED_PUSH, [SPOOL_KEY], [String(maxRows), ...rows.map((row) => serializeRow(row))]),
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
  log?: Log;
}

export interface FlushSpoolResult {
  /** Entries read from the spool and settled (ON CONFLICT skips rows already stored). */
  flushed: number;
  /** Entries moved to the dead-letter list: refused by Postgres, failing too often, or malformed. */
  deadLettered: number;
  /** Entries that failed on their own while Postgres answered, put back at the tail for the next run. */
  requeued: number;
  /** Entries still spooled after this run. */
  remaining: number;
  /** True when another flusher held the lease and this run did nothing. */
  skipped: boolean;
}

/**
 * Moves spooled rows into Postgres, for the worker's `scheduled` handler. Reads a batch from the
 * head (LRANGE), inserts it idempotently, then settles it in one script (see SETTLE_BATCH): a
 * crash between the two re-inserts the batch next time and ON CONFLICT (request_id) makes that a
 * no-op, so nothing is lost and nothing doubled. A lease keeps two flushers from trimming each
 * other's rows. The head never stalls the spool:
 * - a row Postgres refuses for its content is isolated (the batch is split) and dead-lettered
 *   with the reason; an entry that is not a row is dead-lettered as text;
 * - an entry that fails alone for another reason while Postgres answers goes back to the tail
 *   with its failure count, and to the dead-letter list at MAX_FLUSH_FAILURES;
 * - while Postgres is down (or the schema is wrong for every row) the run stops and the batch
 *   stays spooled as it was; the promise rejects.
 * Each run reads at most the entries present when it began, so requeued ones wait for the next.
 * @example ctx.waitUntil(flushSpool(db, redis))
 */
export async function flushSpool(
  db: Database,
  redis: SpoolRedis,
  opts: FlushSpoolOptions = {},
): Promise<FlushSpoolResult> {
  const batchRows = opts.batchRows ?? 500;
  const token = crypto.randomUUID();
  const leased = await redis.set(LOCK_KEY, token, { nx: true, px: opts.leaseMs ?? 120_000 });
  if (leased !== "OK")
    return {
      flushed: 0,
      deadLettered: 0,
      requeued: 0,
      remaining: await redis.llen(SPOOL_KEY),
      skipped: true,
    };

  let flushed = 0;
  let deadLettered = 0;
  let requeued = 0;
  try {
    const budget = Math.min(opts.maxRows ?? 50_000, await redis.llen(SPOOL_KEY));
    while (flushed < budget) {
      const items = await redis.lrange<unknown>(SPOOL_KEY, 0, Math.min(batchRows, budget - flushed) - 1);
      if (!items.length) break;
      const settled = await settleBatch(db, items, opts.log);
      const kept = Number(
        await redis.eval(
          SETTLE_BATCH,
          [SPOOL_KEY, DEAD_LETTER_KEY],
          [
            String(items.length),
            String(DEAD_LETTER_MAX_ENTRIES),
            String(settled.dead.length),
            ...settled.dead,
            ...settled.requeue,
          ],
        ),
      );
      if (kept < settled.dead.length)
        opts.log?.("error", "usage dead-letter list full, entries lost", {
          entries: settled.dead.slice(kept),
        });
      flushed += items.length;
      deadLettered += settled.dead.length;
      requeued += settled.requeue.length;
    }
  } catch (error) {
    opts.log?.("warn", "usage spool flush stopped, rows stay spooled", { error: describeDbError(error) });
    throw error;
  } finally {
    await redis.eval(RELEASE_LOCK, [LOCK_KEY], [token]).catch(() => {});
  }
  const remaining = await redis.llen(SPOOL_KEY);
  if (flushed) opts.log?.("info", "usage spool flushed", { flushed, deadLettered, requeued, remaining });
  return { flushed, deadLettered, requeued, remaining, skipped: false };
}

/**
 * Stores one batch of spool entries, isolating the ones that fail on their own; returns the dead
 * letters and the entries to requeue. Throws, storing nothing more, when the failure is not the
 * entries' (Postgres unreachable, or a schema error every row would hit): the caller then leaves
 * the batch in the spool.
 */
async function settleBatch(
  db: Database,
  items: unknown[],
  log: FlushSpoolOptions["log"],
): Promise<{ dead: string[]; requeue: string[] }> {
  const at = new Date();
  const dead: string[] = [];
  const requeue: string[] = [];
  const entries: SpoolEntry[] = [];
  for (const item of items) {
    const entry = readSpoolEntry(item);
    if (entry) entries.push(entry);
    else
      dead.push(
        deadLetter(typeof item === "string" ? item : JSON.stringify(item), "malformed spool entry", at),
      );
  }

  // Loaded here, not at the top: the cron alone flushes, and drizzle need not load with the isolate.
  const { insertUsageRows, databaseAnswers } = await import("./insert");
  const { refused, unsettled, error } = await storeIsolating(
    entries,
    (batch) =>
      insertUsageRows(
        db,
        batch.map((entry) => entry.row),
      ),
    (failure) => {
      const kind = classifyDbError(failure);
      if (kind !== "transient") return kind === "content";
      // Asked on every such failure, so an outage that starts mid-split is nobody's fault either.
      return databaseAnswers(db);
    },
  );
  if (unsettled.length) throw error;

  for (const { item, error: failure } of refused) {
    const reason = refusalReason(failure);
    const failures = item.flushFailures + 1;
    if (classifyDbError(failure) === "content") dead.push(deadLetter(item.row, reason, at));
    else if (failures >= MAX_FLUSH_FAILURES)
      dead.push(deadLetter(item.row, `failed ${failures} flushes, last: ${reason}`, at));
    else requeue.push(serializeRow(item.row, failures));
  }
  if (dead.length || requeue.length)
    log?.("error", "usage spool entries failed on their own", {
      deadLettered: dead.length,
      requeued: requeue.length,
      requestIds: refused.map(({ item }) => item.row.requestId),
    });
  return { dead, requeue };
}
