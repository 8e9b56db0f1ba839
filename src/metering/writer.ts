import { WindowBatcher } from "../batch";
import type { Database } from "../db/client";
import { deadLetter, pushDeadLetters } from "./dead-letter";
import {
  classifyDbError,
  describeDbError,
  insertUsageRows,
  isPermanentDbError,
  refusalReason,
} from "./insert";
import { type Refusal, storeIsolating } from "./isolate";
import type { Cost } from "./prices";
import { toUsageRow, type UsageRow } from "./row";
import { type SpoolRedis, spoolRows } from "./spool";
import type { UsageRecord } from "./types";

type Log = (
  level: "debug" | "info" | "warn" | "error",
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface UsageWriterOptions {
  /** Lazily, so an isolate that never meters never builds a client. */
  db: Database | (() => Database);
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
  const windowMs = opts.batchWindowMs ?? 5;
  const maxRows = opts.maxBatchRows ?? 500;
  const retryDelays = opts.retryDelaysMs ?? [50, 150];
  const timeoutMs = opts.insertTimeoutMs ?? 5_000;
  const warnedUnpriced = new Set<string>();
  const batches = new WindowBatcher<UsageRow>({
    windowMs,
    maxItems: maxRows,
    send: (rows) =>
      store(rows).catch((error) =>
        opts.log("error", "usage batch failed", { error: describeDbError(error) }),
      ),
  });

  const resolve = <T>(value: T | (() => T)): T =>
    typeof value === "function" ? (value as () => T)() : value;

  async function store(rows: UsageRow[]): Promise<void> {
    const { refused, unsettled, error } = await storeIsolating(
      rows,
      insertWithRetries,
      (failure) => classifyDbError(failure) === "content",
    );
    if (refused.length) await setAside(refused);
    if (!unsettled.length) return;
    opts.log("warn", "usage insert failed, spooling", {
      rows: unsettled.length,
      error: describeDbError(error),
    });
    await spool(unsettled);
  }

  /** One insert, retried with backoff while the failure may pass; throws the last error. */
  async function insertWithRetries(rows: UsageRow[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= retryDelays.length; attempt++) {
      if (attempt > 0) await sleep(retryDelays[attempt - 1] ?? 0);
      try {
        await withTimeout(insertUsageRows(resolve(opts.db), rows), timeoutMs);
        return;
      } catch (error) {
        lastError = error;
        if (isPermanentDbError(error)) break;
      }
    }
    throw lastError;
  }

  /** Rows Postgres refused on their own: to the dead-letter list, each with its reason. */
  async function setAside(refused: Refusal<UsageRow>[]): Promise<void> {
    const at = new Date();
    const reasons = refused.map(({ error }) => refusalReason(error));
    opts.log("error", "usage rows refused by Postgres, moved to dead letter", {
      requestIds: refused.map(({ item }) => item.requestId),
      reasons,
    });
    let lost = refused.map(({ item }, i) => deadLetter(item, reasons[i] ?? "", at));
    try {
      const redis = resolve(opts.redis);
      if (redis) {
        const overflow = await pushDeadLetters(redis, lost);
        lost = overflow ? lost.slice(lost.length - overflow) : [];
      }
    } catch (error) {
      opts.log("error", "usage dead letter failed", { rows: lost.length, error: describeDbError(error) });
    }
    if (lost.length) opts.log("error", "usage dead letters lost", { entries: lost });
  }

  async function spool(rows: UsageRow[]): Promise<void> {
    let lost = rows;
    try {
      const redis = resolve(opts.redis);
      if (redis) {
        const overflow = await spoolRows(redis, rows, opts.spoolMaxRows);
        lost = overflow ? rows.slice(rows.length - overflow) : [];
      }
    } catch (error) {
      opts.log("error", "usage spool failed", { rows: rows.length, error: describeDbError(error) });
    }
    // Last resort: the rows carry no secrets, so the log keeps them for a manual replay.
    if (lost.length) opts.log("error", "usage rows lost", { rows: lost.map((row) => JSON.stringify(row)) });
  }

  function warnIfUnpriced(record: UsageRecord, cost: Cost | null): void {
    if (cost) return;
    const model = `${record.provider ?? "?"}/${record.upstreamModel ?? record.requestedModel ?? "?"}`;
    if (warnedUnpriced.has(model)) return;
    warnedUnpriced.add(model);
    opts.log("warn", "model has no price: usage recorded with a null cost", { model });
  }

  return {
    record(record, cost) {
      warnIfUnpriced(record, cost);
      return batches.add(toUsageRow(record, cost));
    },
    flush: () => batches.flush(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`usage insert timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
