/**
 * Live metrics: counters and latency histograms per route, model, provider and status class,
 * aggregated per isolate and added to Redis with the settlement batches (no round trip of their
 * own), exposed in the Prometheus text format and as the dashboard's live strip.
 */

export { renderPrometheus } from "./exposition";
export { escapeLabelValue, labelBody } from "./labels";
export { type LiveStrip, readLiveStrip } from "./live";
export { LATENCY_BUCKETS_MS } from "./series";
export {
  createMetrics,
  LIVE_BUCKET_MS,
  liveKey,
  type Metrics,
  type MetricsOptions,
  SERIES_KEY,
} from "./store";
