import type { MetricsConfig } from "../config";
import type { UsageRecord } from "../metering/types";
import { errorKind, labelBody, statusClass } from "./labels";

/**
 * Upper bounds (ms) of the latency histograms' buckets; one more bucket holds the rest (+Inf).
 * Fixed, so every isolate's counts add up in Redis.
 */
export const LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000,
] as const;

/**
 * A field of the series hash names one stored number: `<kind>|<metric>|<labels>[|<bucket>]`.
 * Kinds: `c` a count, `p` pico-dollars (exposed in USD), `h` one histogram bucket's count (not
 * cumulative), `s` a histogram's sum in ms (exposed in seconds).
 */
export type SeriesKind = "c" | "p" | "h" | "s";

/** Fields of the live (10-second) buckets the dashboard's strip reads. */
export const LIVE = { requests: "n", errors: "e", costPico: "p", latencyBucket: "l" } as const;

/** Adds a number to a field of a pending aggregate. */
export type Add = (field: string, amount: number) => void;

/** Index of the bucket a duration falls in (LATENCY_BUCKETS_MS.length for +Inf). */
export function bucketIndex(ms: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= (LATENCY_BUCKETS_MS[i] ?? 0)) return i;
  return LATENCY_BUCKETS_MS.length;
}

/**
 * Adds one finished request to the series and the live bucket: requests, errors by kind,
 * tokens by type, cost, extra attempts, and the total and upstream first-byte latencies.
 * Labels come from the config's routes and providers (bounded); tenant and key only when
 * configured.
 * @example recordRequest(add, addLive, record, cost?.picoUsd ?? null, config.metrics)
 */
export function recordRequest(
  add: Add,
  addLive: Add,
  record: UsageRecord,
  costPicoUsd: bigint | null,
  config: MetricsConfig,
): void {
  const base = baseLabels(record.endpoint, record.requestedModel ?? "", record.provider ?? "none");
  let who = "";
  if (config.tenant_label) who += `,${labelBody([["tenant", record.tenant]])}`;
  if (config.key_label) who += `,${labelBody([["key", record.keyId]])}`;
  const status = statusClass(record.status);
  add(`c|sluice_requests_total|${base},status_class="${status}"${who}`, 1);
  if (record.status >= 400) {
    add(`c|sluice_errors_total|${base},kind="${errorKind(record.errorCode, record.status)}"`, 1);
  }
  const usage = record.usage;
  addTokens(add, `${base}${who}`, "prompt", usage.promptTokens);
  addTokens(add, `${base}${who}`, "completion", usage.completionTokens);
  addTokens(add, `${base}${who}`, "cached_read", usage.cachedReadTokens);
  addTokens(add, `${base}${who}`, "cache_write", usage.cacheWriteTokens);
  addTokens(add, `${base}${who}`, "reasoning", usage.reasoningTokens);
  const pico = costPicoUsd !== null && costPicoUsd > 0n ? Number(costPicoUsd) : 0;
  if (pico > 0) add(`p|sluice_cost_usd_total|${base}${who}`, pico);
  if (costPicoUsd === null) add(`c|sluice_unpriced_requests_total|${base}`, 1);
  if (record.attempts > 1) add(`c|sluice_fallbacks_total|${base}`, record.attempts - 1);
  const latency = Math.max(0, Math.round(record.latencyMs));
  addHistogram(add, "sluice_request_duration_seconds", base, latency);
  if (record.ttfbMs !== null) {
    addHistogram(add, "sluice_upstream_ttfb_seconds", base, Math.max(0, Math.round(record.ttfbMs)));
  }
  addLive(LIVE.requests, 1);
  if (record.status >= 500) addLive(LIVE.errors, 1);
  if (pico > 0) addLive(LIVE.costPico, pico);
  addLive(`${LIVE.latencyBucket}${bucketIndex(latency)}`, 1);
}

/** Label bodies already escaped, by route, model and provider (names from the config: few). */
const baseCache = new Map<string, string>();
const BASE_CACHE_MAX = 1000;

function baseLabels(route: string, model: string, provider: string): string {
  const key = `${route}\u0000${model}\u0000${provider}`;
  let body = baseCache.get(key);
  if (body === undefined) {
    body = labelBody([
      ["route", route],
      ["model", model],
      ["provider", provider],
    ]);
    if (baseCache.size >= BASE_CACHE_MAX) baseCache.clear();
    baseCache.set(key, body);
  }
  return body;
}

function addTokens(add: Add, labels: string, type: string, count: number): void {
  if (count > 0) add(`c|sluice_tokens_total|${labels},type="${type}"`, Math.round(count));
}

function addHistogram(add: Add, metric: string, labels: string, ms: number): void {
  add(`h|${metric}|${labels}|${bucketIndex(ms)}`, 1);
  add(`s|${metric}|${labels}`, ms);
}
