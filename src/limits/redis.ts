import { Redis } from "@upstash/redis/cloudflare";

/**
 * An @upstash/redis client fit for the gate: auto-pipelining (the commands of one admission go
 * out as one /pipeline request), a per-request timeout so an unreachable Redis fails fast into
 * the failure policy instead of hanging, one quick retry of a failed connection, no telemetry.
 * @example const redis = createLimitsRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN })
 */
export function createLimitsRedis(opts: { url: string; token: string; timeoutMs?: number }): Redis {
  const timeoutMs = opts.timeoutMs ?? 1000;
  return new Redis({
    url: opts.url,
    token: opts.token,
    enableAutoPipelining: true,
    enableTelemetry: false,
    // A function: the client then rejects on timeout (a plain signal makes it answer "Aborted").
    signal: () => AbortSignal.timeout(timeoutMs),
    retry: { retries: 1, backoff: () => 20 },
  });
}
