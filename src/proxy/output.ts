import type { TokenUsage } from "../providers";
import { mayHaveUsageObject } from "../providers/openai";
import { sseData } from "../streaming/sse";
import type { StreamFormat } from "../streaming/stream-end";

/**
 * The shape of the answer the caller gets back. Internally every answer is OpenAI-shaped;
 * `/v1/messages` callers get Anthropic's shapes instead (`anthropicOutput` in inbound/anthropic/).
 * Errors outside a stream take the caller's shape from the route's `errorShape` (errors.ts).
 */
export interface OutputFormat {
  /** A fresh stream framing for one answer. */
  stream(costOf: (usage: TokenUsage) => number | null): StreamFormat;
  /** The JSON answer, given the OpenAI one (with `usage.cost` already set). */
  json(body: Record<string, unknown>): unknown;
  /** Native passthrough: answers go out as the target wrote them (no `usage.cost` added). */
  raw?: boolean;
}

/**
 * OpenAI output. The usage-only chunk is always requested upstream; the caller sees it (with its
 * cost) only when they asked for it. Every other payload passes through untouched.
 * @example proxy(c, { endpoint: "chat", body, stream: true, output: openaiOutput(includeUsage) }, timing)
 */
export function openaiOutput(includeUsage: boolean): OutputFormat {
  return {
    stream: (costOf) => ({
      frame(payload, usage) {
        if (!isUsageChunk(payload)) return sseData(payload);
        if (!includeUsage) return null;
        const chunk = JSON.parse(payload) as { usage: Record<string, unknown> };
        chunk.usage.cost = usage ? costOf(usage) : null;
        return sseData(JSON.stringify(chunk));
      },
      fail: (error) => sseData(JSON.stringify(error)),
    }),
    json: (body) => body,
  };
}

/**
 * OpenAI output on a `stream_passthrough` route, for OpenAI-compatible targets: the stream goes to
 * the caller as the provider wrote it (forwarded by the runtime), usage chunk included, no `cost`.
 * @example native: { kind: "openai", adapter: openaiAdapter, body, output: openaiPassthroughOutput(), untranslatable: null }
 */
export function openaiPassthroughOutput(): OutputFormat {
  const framed = openaiOutput(true);
  return {
    raw: true,
    stream: (costOf) => ({ ...framed.stream(costOf), frame: () => null, raw: true }),
    json: (body) => body,
  };
}

/** The usage-only chunk: a usage object and no choices. Cheap test first (see mayHaveUsageObject). */
function isUsageChunk(payload: string): boolean {
  if (!mayHaveUsageObject(payload)) return false;
  const chunk = JSON.parse(payload) as { choices?: unknown[]; usage?: unknown };
  return Boolean(chunk.usage) && (!chunk.choices || chunk.choices.length === 0);
}
