import type { MetricsConfig } from "../config";
import { LuaScript, type ScriptRunner } from "../limits";
import type { Log } from "../log";
import type { UsageRecord } from "../metering/types";
import { METRICS_SCRIPT } from "./scripts";
import { recordRequest } from "./series";

/**
 * Redis layout of the metrics (every key expires):
 *
 * | key | type | holds | expires |
 * |---|---|---|---|
 * | `sluice:metrics:series` | hash | cumulative counters and histogram buckets, one field per series | `retention_days` after the last write |
 * | `sluice:metrics:live:<ms>` | hash | one 10-second bucket: requests, 5xx, cost, latency buckets | 15 minutes |
 */
export const SERIES_KEY = "sluice:metrics:series";
/** Width of one live bucket. */
export const LIVE_BUCKET_MS = 10_000;
const LIVE_TTL_MS = 15 * 60_000;
/** Distinct fields an isolate holds between two sends; past it new fields wait for the next batch. */
const MAX_PENDING_FIELDS = 4000;

/** The live bucket holding the instant `ms`. */
export const liveKey = (ms: number): string =>
  `sluice:metrics:live:${Math.floor(ms / LIVE_BUCKET_MS) * LIVE_BUCKET_MS}`;

/** The isolate's share of the metrics, sent to Redis with the limits' settlement batches. */
export interface Metrics {
  /** Adds a finished request to the isolate's pending counts; no I/O. */
  record(record: UsageRecord, costPicoUsd: bigint | null): void;
  /**
   * Sends the pending counts as ONE script command, queued before it returns so it joins the
   * commands issued in the same tick (the settlement batch's pipeline). Null when nothing is pending.
   */
  sendPending(): Promise<void> | null;
}

export interface MetricsOptions {
  /** The gate's script runner: commands of one tick share one /pipeline request. */
  runner: ScriptRunner;
  config: MetricsConfig;
  now: () => number;
  log: Log;
}

/**
 * Live metrics aggregated in the isolate and added to Redis in batches: a request only updates a
 * few map entries; the counts ride along with the settlement scripts already sent after answers
 * (createSettlements' companions), so metrics cost no round trip of their own.
 * @example const metrics = createMetrics({ runner, config: config.metrics, now, log }); metrics.record(record, cost)
 */
export function createMetrics(opts: MetricsOptions): Metrics {
  const script = new LuaScript(opts.runner, METRICS_SCRIPT);
  let series = new Map<string, number>();
  let live = new Map<string, number>();
  const addSeries = (field: string, amount: number) => bump(series, field, amount);
  const addLive = (field: string, amount: number) => bump(live, field, amount);

  return {
    record(record, costPicoUsd) {
      if (!opts.config.enabled) return;
      recordRequest(addSeries, addLive, record, costPicoUsd, opts.config);
    },
    sendPending() {
      if (series.size === 0 && live.size === 0) return null;
      const args: (string | number)[] = [
        opts.config.max_series,
        opts.config.retention_days * 86_400_000,
        LIVE_TTL_MS,
        series.size,
      ];
      for (const [field, amount] of series) args.push(field, amount);
      for (const [field, amount] of live) args.push(field, amount);
      series = new Map();
      live = new Map();
      return script.run<unknown>([SERIES_KEY, liveKey(opts.now())], args).then(
        () => {},
        (error: unknown) => {
          opts.log("warn", "metrics not stored", { error: String(error).slice(0, 200) });
        },
      );
    },
  };
}

/** Adds to a pending count; a new field past the bound is dropped (a batch holds far fewer). */
function bump(map: Map<string, number>, field: string, amount: number): void {
  const current = map.get(field);
  if (current !== undefined) map.set(field, current + amount);
  else if (map.size < MAX_PENDING_FIELDS) map.set(field, amount);
}
