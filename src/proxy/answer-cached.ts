import type { Context } from "hono";
import type { CacheEntry } from "../cache";
import { replayPayloads } from "../cache";
import type { AppEnv } from "../context";
import { SSE_HEADERS } from "../streaming/sse";
import type { Admitted } from "./admit";
import type { ProxyRequest } from "./request";
import { settle } from "./settle";

/**
 * Answers from a response-cache entry, no upstream call: as JSON, or replayed as the stream the
 * caller asked for (in their format), with `age`. Its usage row has `cache_hit`, cost 0 and the
 * entry's cost as savings; settling at 0 gives back the tokens and dollars the gate reserved.
 * @example if (admitted.cache?.entry) return answerCached(c, request, admitted, admitted.cache.entry)
 */
export function answerCached(
  c: Context<AppEnv>,
  request: ProxyRequest,
  admitted: Admitted,
  entry: CacheEntry,
): Response {
  const now = c.get("services").now();
  admitted.record.setTarget(entry.provider, entry.model, 0);
  c.header("x-sluice-provider", entry.provider);
  c.header("x-sluice-model", entry.model);
  c.header("x-sluice-attempts", "0");
  c.header("x-sluice-cost-usd", "0");
  c.header("age", String(Math.max(0, Math.floor((now - entry.storedAt) / 1000))));
  settle(c, admitted, {
    status: 200,
    errorCode: null,
    usage: entry.usage,
    usageSource: "provider",
    ttfbMs: 0,
    cacheHit: true,
  });
  const body = entry.body;
  if (body.usage && typeof body.usage === "object") (body.usage as Record<string, unknown>).cost = 0;
  if (!request.stream) return c.json(request.output.json(body), 200);
  const format = request.output.stream(() => 0);
  let text = "";
  for (const payload of replayPayloads(body)) text += format.frame(payload, entry.usage) ?? "";
  for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
  return c.body(text, 200);
}
