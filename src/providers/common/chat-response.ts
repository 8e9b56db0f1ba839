import type { ResponseContext, TokenUsage } from "../types";

/** OpenAI's finish reasons, the only values a translated answer may carry. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** One tool call of an answer, as OpenAI shapes it. */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  extra_content?: { google: { thought_signature: string } };
}

/** What a translator gathered for one choice of a non-stream answer. */
export interface ChoiceDraft {
  index: number;
  text: string;
  reasoning: string;
  toolCalls: OpenAIToolCall[];
  finishReason: FinishReason;
}

/**
 * OpenAI's usage object for token counts. `cache_write_tokens` (OpenRouter's name) appears only
 * when the provider wrote to its cache, so the Anthropic-compatible route can report it back.
 */
export function openAIUsage(usage: TokenUsage): Record<string, unknown> {
  const promptDetails: Record<string, number> = { cached_tokens: usage.cachedReadTokens };
  if (usage.cacheWriteTokens > 0) promptDetails.cache_write_tokens = usage.cacheWriteTokens;
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: promptDetails,
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

/** A `chat.completion` body from translated choices. */
export function completionBody(
  ctx: ResponseContext,
  choices: ChoiceDraft[],
  usage: TokenUsage | null,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.requestedModel,
    choices: choices.map((choice) => {
      const message: Record<string, unknown> = {
        role: "assistant",
        // null, as OpenAI sends it, when the answer is only tool calls or was filtered away.
        content:
          choice.text === "" && (choice.toolCalls.length > 0 || choice.finishReason === "content_filter")
            ? null
            : choice.text,
        refusal: null,
      };
      if (choice.reasoning) message.reasoning_content = choice.reasoning;
      if (choice.toolCalls.length > 0) message.tool_calls = choice.toolCalls;
      return { index: choice.index, message, logprobs: null, finish_reason: choice.finishReason };
    }),
  };
  if (usage) body.usage = openAIUsage(usage);
  return body;
}

/** One `chat.completion.chunk` payload for one choice's delta. */
export function deltaChunk(
  ctx: ResponseContext,
  index: number,
  delta: Record<string, unknown>,
  finishReason: FinishReason | null = null,
): string {
  return JSON.stringify({
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.created,
    model: ctx.requestedModel,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
  });
}

/** The usage-only chunk that ends every stream whose usage is known (`choices: []`). */
export function usageChunk(ctx: ResponseContext, usage: TokenUsage): string {
  return JSON.stringify({
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.created,
    model: ctx.requestedModel,
    choices: [],
    usage: openAIUsage(usage),
  });
}

/** Parses one SSE data payload as a JSON object, or null when it is not one. */
export function parseEventData(data: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(data);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** A finite number or 0: providers omit counts that are zero. */
export function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}
