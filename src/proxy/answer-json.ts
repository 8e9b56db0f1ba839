import type { Context } from "hono";
import { storeEntry } from "../cache";
import type { TargetConfig } from "../config";
import type { AppEnv } from "../context";
import { estimateUsage } from "../estimate";
import type { TokenUsage } from "../providers";
import { encodeEmbeddingsBase64 } from "../providers/common/embeddings";
import type { Admitted } from "./admit";
import type { OutputFormat } from "./output";
import type { ProxyRequest } from "./request";
import { settle } from "./settle";
import type { JsonAnswer } from "./upstream";

/**
 * Answers with a whole JSON body: its charge (the billed price) in `usage.cost` and `x-sluice-cost-usd`, embeddings
 * shaped as asked, in the caller's format; the request settles at the usage the upstream
 * reported, or at the gateway's estimate when it reported none.
 * @example return answerJson(c, request, admitted, answer, attempted.target)
 */
export function answerJson(
  c: Context<AppEnv>,
  request: ProxyRequest,
  admitted: Admitted,
  answer: JsonAnswer & { output: OutputFormat },
  target: TargetConfig,
): Response {
  const usage = answer.usage ?? estimateUsage(admitted.promptTokens, "");
  const body =
    request.endpoint === "embeddings" && !answer.output.raw
      ? embeddingsAnswer(answer.body, request.body, usage)
      : answer.body;
  const services = c.get("services");
  const cache = admitted.cache;
  let stored: Promise<void> | null = null;
  if (cache && !answer.output.raw) {
    // Before `usage.cost` is set and the caller's shape applied: the entry is the OpenAI answer.
    const entry = { body, usage, provider: target.provider, model: target.model, storedAt: services.now() };
    stored = storeEntry(services, services.log, { key: cache.key, ...cache.policy }, entry);
  }
  const payer = { caller: c.get("caller"), requestedModel: request.body.model };
  const cost = services.meter.costUsd(target.provider, target.model, usage, payer);
  if (!answer.output.raw && body.usage && typeof body.usage === "object")
    (body.usage as Record<string, unknown>).cost = cost;
  if (cost !== null) c.header("x-sluice-cost-usd", String(cost));
  const outcome = {
    status: 200,
    errorCode: null,
    usage,
    usageSource: answer.usage ? "provider" : "estimated",
    ttfbMs: answer.ttfbMs,
  } as const;
  // Settled once the entry is queued, so the settlement's batch carries the store (no request of its own).
  settle(c, admitted, stored ? stored.then(() => outcome) : outcome);
  return c.json(answer.output.json(body), 200);
}

/**
 * Embeddings as the caller asked for them: base64 when requested (some adapters, Gemini's
 * included, only get number arrays), and a `usage` object even when the upstream reported none.
 */
function embeddingsAnswer(
  body: Record<string, unknown>,
  requestBody: Record<string, unknown>,
  usage: TokenUsage,
): Record<string, unknown> {
  const shaped = requestBody.encoding_format === "base64" ? encodeEmbeddingsBase64(body) : body;
  shaped.usage ??= { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens };
  return shaped;
}
