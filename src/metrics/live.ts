import type { Redis } from "@upstash/redis/cloudflare";
import { LATENCY_BUCKETS_MS, LIVE } from "./series";
import { LIVE_BUCKET_MS, liveKey } from "./store";

/** The dashboard's live strip: the last five minutes, from the 10-second buckets. */
export interface LiveStrip {
  windowSeconds: number;
  requests: number;
  requestsPerSecond: number;
  /** Share of requests answered 5xx (0-1); null without requests. */
  errorRate: number | null;
  /** 95th percentile of the total latency (ms, the upper bound of its bucket); null without requests. */
  p95Ms: number | null;
  costPerHourUsd: number;
  /** One point per 10-second bucket, oldest first. */
  points: { at: number; requests: number; errors: number; costUsd: number }[];
}

const WINDOW_MS = 5 * 60_000;

/**
 * Reads the last five minutes of live buckets in one pipeline request and sums them up.
 * @example const strip = await readLiveStrip(services.redis, Date.now())
 */
export async function readLiveStrip(redis: Redis, now: number): Promise<LiveStrip> {
  const starts: number[] = [];
  const first = Math.floor((now - WINDOW_MS) / LIVE_BUCKET_MS) * LIVE_BUCKET_MS + LIVE_BUCKET_MS;
  for (let at = first; at <= now; at += LIVE_BUCKET_MS) starts.push(at);
  const pipeline = redis.pipeline();
  for (const at of starts) pipeline.hgetall(liveKey(at));
  const buckets = (await pipeline.exec()) as (Record<string, unknown> | null)[];
  return summarize(starts, buckets, now - (starts[0] ?? now));
}

function summarize(starts: number[], buckets: (Record<string, unknown> | null)[], spanMs: number): LiveStrip {
  const latency: number[] = [...LATENCY_BUCKETS_MS, Number.POSITIVE_INFINITY].map(() => 0);
  let requests = 0;
  let errors = 0;
  let costPico = 0;
  const points = starts.map((at, i) => {
    const bucket = buckets[i] ?? {};
    const read = (field: string) => Number(bucket[field] ?? 0) || 0;
    latency.forEach((_, j) => {
      latency[j] = (latency[j] ?? 0) + read(`${LIVE.latencyBucket}${j}`);
    });
    const point = {
      at,
      requests: read(LIVE.requests),
      errors: read(LIVE.errors),
      costUsd: read(LIVE.costPico) / 1e12,
    };
    requests += point.requests;
    errors += point.errors;
    costPico += read(LIVE.costPico);
    return point;
  });
  const seconds = Math.max(1, spanMs / 1000);
  return {
    windowSeconds: Math.round(seconds),
    requests,
    requestsPerSecond: requests / seconds,
    errorRate: requests > 0 ? errors / requests : null,
    p95Ms: percentile(latency, 0.95),
    costPerHourUsd: (costPico / 1e12) * (3600 / seconds),
    points,
  };
}

/** The upper bound (ms) of the bucket holding the q-quantile; +Inf reads as the last finite bound. */
function percentile(counts: number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= q * total) return LATENCY_BUCKETS_MS[Math.min(i, LATENCY_BUCKETS_MS.length - 1)] ?? null;
  }
  return null;
}
