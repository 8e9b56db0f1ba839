import type { Database } from "../db/client";
import type { Log } from "../log";
import { sleep, withTimeout } from "../timers";
import { WindowBatcher } from "../window-batcher";
import { classifyDbError, describeDbError, isPermanentDbError, refusalReason } from "./db-errors";
import { deadLetter, pushDeadLetters } from "./dead-letter";
import { type Refusal, storeIsolating } from "./isolate";
import type { Cost } from "./prices";
import { toUsageRow, type UsageRow } from "./row";
import { type SpoolRedis, spoolRows } from "./spool";
import type { UsageRecord } from "./types";

export interface UsageWriterOptions {
  /** Lazily, so an isolate that never meters never opens a client (see lazyDatabase). */
  db: Database | (() => Database | Promise<Database>);
  /** Where rows go when Postgres stays down (and refused rows, as dead letters); null means they are logged and lost. */
  redis: SpoolRedis | null | (() => SpoolRedis | null);
  log: Log;
  /** How long the first row of a batch waits for company (default 5 ms). */
  batchWindowMs?: number;
  /** A batch is sent at once when it reaches this many rows (default 500). */
  maxBatchRows?: number;
  /** Waits between insert attempts (default 50, 150 ms: three attempts, ~200 ms of backoff). */
  retryDelaysMs?: number[];
  /** One attempt is abandoned after this long (default 5 s); idempotent inserts make that safe. */
  insertTimeoutMs?: number;
  /** Bound of the Redis spool list (default SPOOL_MAX_ROWS). */
  spoolMaxRows?: number;
}

/** Batches usage rows across the requests an isolate serves. */
export interface UsageWriter {
  /**
   * Queues the request's row; the promise settles once its batch is stored (or spooled) and
   * never rejects. Pass it to `ctx.waitUntil`. `cost` null = the model has no price.
   */
  record(record: UsageRecord, cost: Cost | null): Promise<void>;
  /** Sends whatever is queued now, without waiting for the window. */
  flush(): Promise<void>;
}

/**
 * One writer per isolate: rows recorded within a few milliseconds of each other go to Postgres
 * in ONE multi-row INSERT ... ON CONFLICT (request_id) DO NOTHING (each outbound request costs
 * ~190 us of CPU in workerd). A failed insert is retried with a short backoff, then the rows are
 * spooled to Redis for `flushSpool`. A row Postgres refuses for its content never sinks its
 * batch: the batch is split until that row stands alone, the rest is stored, and the row goes
 * to the dead-letter list with the reason.
 * @example const writer = createUsageWriter({ db, redis, log }); ctx.waitUntil(writer.record(record, cost))
 */
export function createUsageWriter(opts: UsageWriterOptions): UsageWriter {
  const w: Writer = {
    db: async () => resolve(opts.db),
    redis: () => resolve(opts.redis),
    log: opts.log,
    retryDelays: opts.retryDelaysMs ?? [50, 150],
    timeoutMs: opts.insertTimeoutMs ?? 5_000,
    spoolMaxRows: opts.spoolMaxRows,
  };
  const batches = new WindowBatcher<UsageRow>({
    windowMs: opts.batchWindowMs ?? 5,
    maxItems: opts.maxBatchRows ?? 500,
    send: (rows) =>
      store(w, rows).catch((error) =>
        w.log("error", "usage batch failed", { error: describeDbError(error) }),
      ),
  });
  const warnedUnpriced = new Set<string>();

  function warnIfUnpriced(record: UsageRecord, cost: Cost | null): void {
    if (cost) return;
    const model = `${record.provider ?? "?"}/${record.upstreamModel ?? record.requestedModel ?? "?"}`;
    if (warnedUnpriced.has(model)) return;
    warnedUnpriced.add(model);
    w.log("warn", "model has no price: usage recorded with a null cost", { model });
  }

  return {
    record(record, cost) {
      warnIfUnpriced(record, cost);
      return batches.add(toUsageRow(record, cost));
    },
    flush: () => batches.flush(),
  };
}

/** The writer's settings, its options resolved. */
interface Writer {
  db: () => Promise<Database>;
  redis: () => SpoolRedis | null;
  log: Log;
  retryDelays: number[];
  timeoutMs: number;
  spoolMaxRows: number | undefined;
}

const resolve = <T>(value: T | (() => T)): T => (typeof value === "function" ? (value as () => T)() : value);

async function store(w: Writer, rows: UsageRow[]): Promise<void> {
  const { refused, unsettled, error } = await storeIsolating(
    rows,
    (batch) => insertWithRetries(w, batch),
    (failure) => classifyDbError(failure) === "content",
  );
  if (refused.length) await setAside(w, refused);
  if (!unsettled.length) return;
  w.log("warn", "usage insert failed, spooling", {
    rows: unsettled.length,
    error: describeDbError(error),
  });
  await spool(w, unsettled);
}

/** One insert, retried with backoff while the failure may pass; throws the last error. */
async function insertWithRetries(w: Writer, rows: UsageRow[]): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt <= w.retryDelays.length; attempt++) {
    if (attempt > 0) await sleep(w.retryDelays[attempt - 1] ?? 0);
    try {
      await withTimeout(
        insertRows(w, rows),
        w.timeoutMs,
        () => new Error(`usage insert timed out after ${w.timeoutMs} ms`),
      );
      return;
    } catch (error) {
      lastError = error;
      if (isPermanentDbError(error)) break;
    }
  }
  throw lastError;
}

/** drizzle loads with the first batch (see lazyDatabase), not while the isolate starts. */
async function insertRows(w: Writer, rows: UsageRow[]): Promise<void> {
  const [{ insertUsageRows }, db] = await Promise.all([import("./insert"), w.db()]);
  await insertUsageRows(db, rows);
}

/** Rows Postgres refused on their own: to the dead-letter list, each with its reason. */
async function setAside(w: Writer, refused: Refusal<UsageRow>[]): Promise<void> {
  const at = new Date();
  const reasons = refused.map(({ error }) => refusalReason(error));
  w.log("error", "usage rows refused by Postgres, moved to dead letter", {
    requestIds: refused.map(({ item }) => item.requestId),
    reasons,
  });
  let lost = refused.map(({ item }, i) => deadLetter(item, reasons[i] ?? "", at));
  try {
    const redis = w.redis();
    if (redis) {
      const overflow = await pushDeadLetters(redis, lost);
      lost = overflow ? lost.slice(lost.length - overflow) : [];
    }
  } catch (error) {
    w.log("error", "usage dead letter failed", { rows: lost.length, error: describeDbError(error) });
  }
  if (lost.length) w.log("error", "usage dead letters lost", { entries: lost });
}

async function spool(w: Writer, rows: UsageRow[]): Promise<void> {
  let lost = rows;
  try {
    const redis = w.redis();
    if (redis) {
      const overflow = await spoolRows(redis, rows, w.spoolMaxRows);
      lost = overflow ? rows.slice(rows.length - overflow) : [];
    }
  } catch (error) {
    w.log("error", "usage spool failed", { rows: rows.length, error: describeDbError(error) });
  }
  // Last resort: the rows carry no secrets, so the log keeps them for a manual replay.
  if (lost.length) w.log("error", "usage rows lost", { rows: lost.map((row) => JSON.stringify(row)) });
}
