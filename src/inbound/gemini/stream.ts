import type { OpenAIErrorBody } from "../../errors";
import type { StreamFormat } from "../../streaming/stream-end";
import { openAIErrorToGemini } from "./error";
import { finishReasonOf, partsOf, usageMetadataOf } from "./response";

type Json = Record<string, unknown>;

interface ToolCallDelta {
  index?: number;
  function?: { name?: string; arguments?: string };
}

/** One event as Google frames them (`data: {...}` and a blank line, CRLF). */
function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

/**
 * Gemini's `streamGenerateContent?alt=sse` from OpenAI chunks: each text delta is an event at
 * once; tool calls are gathered and sent whole (Gemini streams whole function calls) with the
 * finish reason and usageMetadata in the last event, at `[DONE]`. A cut ends with Google's
 * error object.
 * @example const format = geminiStreamFormat("gpt-4o-mini"); format.frame(chunkJson, null)
 */
export function geminiStreamFormat(requestedModel: string): StreamFormat {
  const calls = new Map<number, { name: string; arguments: string }>();
  let finish: unknown = null;
  let usage: unknown = null;
  let id: string | undefined;
  const wrap = (candidate: Json, extra: Json = {}) =>
    event({
      candidates: [{ ...candidate, index: 0 }],
      ...extra,
      modelVersion: requestedModel,
      responseId: id,
    });
  return {
    frame(payload) {
      if (payload === "[DONE]") {
        const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => ({ function: c }));
        const parts = partsOf({ tool_calls: toolCalls });
        const last = { content: { role: "model", parts }, finishReason: finishReasonOf(finish) };
        return wrap(last, { usageMetadata: usageMetadataOf(usage) });
      }
      const chunk = JSON.parse(payload) as Json;
      if (typeof chunk.id === "string") id = chunk.id;
      if (chunk.usage) usage = chunk.usage;
      const choice = (Array.isArray(chunk.choices) ? chunk.choices[0] : undefined) as Json | undefined;
      if (!choice) return null;
      if (choice.finish_reason) finish = choice.finish_reason;
      const delta = (choice.delta ?? {}) as { content?: unknown; tool_calls?: ToolCallDelta[] };
      for (const call of delta.tool_calls ?? []) gather(calls, call);
      if (typeof delta.content !== "string" || delta.content === "") return null;
      return wrap({ content: { role: "model", parts: [{ text: delta.content }] } });
    },
    fail: (error: OpenAIErrorBody) => event(openAIErrorToGemini(502, error)),
  };
}

function gather(calls: Map<number, { name: string; arguments: string }>, delta: ToolCallDelta): void {
  const index = delta.index ?? 0;
  const call = calls.get(index) ?? { name: "", arguments: "" };
  call.name += delta.function?.name ?? "";
  call.arguments += delta.function?.arguments ?? "";
  calls.set(index, call);
}
