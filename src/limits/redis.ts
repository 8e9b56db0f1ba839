import { Redis } from "@upstash/redis/cloudflare";

/**
 * The isolate's @upstash/redis client: the gate pipelines its one round trip itself through this
 * client's HTTP layer (see script-runner.ts), a per-request timeout makes an unreachable Redis fail
 * fast into the failure policy instead of hanging, one quick retry, no telemetry, plain JSON
 * replies. Auto-pipelining is OFF: the client is shared by every request of the isolate, and its
 * pipeline would merge commands of requests whose continuations run in the same turn (e.g. woken
 * by one usage batch), making one request wait on another's I/O, which workerd refuses ("Cannot
 * perform I/O on behalf of a different request") and which then hangs.
 * @example const redis = createLimitsRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN })
 */
export function createLimitsRedis(opts: { url: string; token: string; timeoutMs?: number }): Redis {
  const timeoutMs = opts.timeoutMs ?? 1000;
  return new Redis({
    url: opts.url,
    token: opts.token,
    enableAutoPipelining: false,
    enableTelemetry: false,
    // Replies as plain JSON: base64 (the default) decodes every string of every reply, each through
    // its own TextDecoder, on the hot path. Everything the gateway stores is UTF-8 text.
    responseEncoding: false,
    // A function: the client then rejects on timeout (a plain signal makes it answer "Aborted").
    signal: () => AbortSignal.timeout(timeoutMs),
    retry: { retries: 1, backoff: () => 20 },
  });
}
