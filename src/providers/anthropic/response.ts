import { type ChoiceDraft, completionBody, count, type FinishReason } from "../common/chat-response";
import type { ResponseContext, TokenUsage } from "../types";
import { JSON_TOOL_NAME } from "./request";

/**
 * Anthropic usage in OpenAI terms: Anthropic's `input_tokens` excludes cache reads and writes,
 * OpenAI's `prompt_tokens` includes them, so the three are summed and the cached parts kept apart.
 * Anthropic does not report thinking tokens separately: they are in `output_tokens`.
 * @example anthropicUsage({ input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 7 })
 */
export function anthropicUsage(raw: unknown): TokenUsage | null {
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Record<string, unknown>;
  const cacheRead = count(u.cache_read_input_tokens);
  const cacheWrite = count(u.cache_creation_input_tokens);
  return {
    promptTokens: count(u.input_tokens) + cacheRead + cacheWrite,
    completionTokens: count(u.output_tokens),
    cachedReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  };
}

/** Anthropic's `stop_reason` as an OpenAI `finish_reason`. */
export function finishReasonOf(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      // end_turn, stop_sequence, pause_turn
      return "stop";
  }
}

interface AnthropicBlock {
  type: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

/**
 * A non-stream Messages answer as an OpenAI `chat.completion`. Text blocks join into `content`,
 * thinking into `reasoning_content`, `tool_use` blocks become `tool_calls`; the reserved JSON
 * tool's input becomes the text itself.
 */
export function parseMessage(
  json: unknown,
  ctx: ResponseContext,
): { body: Record<string, unknown>; usage: TokenUsage | null } {
  const message = (json ?? {}) as { content?: AnthropicBlock[]; stop_reason?: unknown; usage?: unknown };
  const choice: ChoiceDraft = {
    index: 0,
    text: "",
    reasoning: "",
    toolCalls: [],
    finishReason: finishReasonOf(message.stop_reason),
  };
  let answeredAsJson = false;
  for (const block of message.content ?? []) {
    if (block.type === "text") choice.text += block.text ?? "";
    else if (block.type === "thinking") choice.reasoning += block.thinking ?? "";
    else if (block.type === "tool_use" && block.name === JSON_TOOL_NAME) {
      choice.text += JSON.stringify(block.input ?? {});
      answeredAsJson = true;
    } else if (block.type === "tool_use") {
      choice.toolCalls.push({
        id: block.id ?? "",
        type: "function",
        function: { name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  if (answeredAsJson && choice.toolCalls.length === 0 && choice.finishReason === "tool_calls") {
    choice.finishReason = "stop";
  }
  const usage = anthropicUsage(message.usage);
  return { body: completionBody(ctx, [choice], usage), usage };
}
