import {
  type ChoiceDraft,
  completionBody,
  count,
  type FinishReason,
  type OpenAIToolCall,
} from "../common/chat-response";
import type { ResponseContext, TokenUsage } from "../types";

/** Gemini's reasons for stopping that mean a filter removed or blocked the answer. */
const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "LANGUAGE",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/**
 * Gemini usage in OpenAI terms: `cachedContentTokenCount` is already part of
 * `promptTokenCount`, thinking (`thoughtsTokenCount`) is billed as output but not counted in
 * `candidatesTokenCount`, so it is added to the completion and reported as reasoning.
 * @example geminiUsage({ promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 3 })
 */
export function geminiUsage(raw: unknown): TokenUsage | null {
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Record<string, unknown>;
  const thoughts = count(u.thoughtsTokenCount);
  return {
    promptTokens: count(u.promptTokenCount),
    completionTokens: count(u.candidatesTokenCount) + thoughts,
    cachedReadTokens: count(u.cachedContentTokenCount),
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  };
}

/** Gemini's `finishReason` as OpenAI's; a STOP after function calls is `tool_calls`. */
export function finishReasonOf(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (typeof reason === "string" && FILTERED.has(reason)) return "content_filter";
  return hasToolCalls ? "tool_calls" : "stop";
}

/**
 * The id of a Gemini function call. Gemini usually sends none, so one is derived from the
 * completion id and the call's position: the same answer gets the same ids streamed or not, ids
 * stay unique across the turns of a conversation, and they fit OpenAI's 40-character limit.
 */
export function toolCallId(
  ctx: ResponseContext,
  choiceIndex: number,
  toolIndex: number,
  given: unknown,
): string {
  if (typeof given === "string" && given !== "") return given;
  // OpenAI caps tool call ids at 40 characters: a fallback to it must still accept these.
  const base = ctx.id
    .replace(/^chatcmpl-/, "")
    .replace(/[^a-zA-Z0-9]/g, "")
    .slice(-24);
  return `call_${base}_${choiceIndex > 0 ? `${choiceIndex}_` : ""}${toolIndex}`;
}

/** A `functionCall` part as an OpenAI tool call, its thought signature carried in `extra_content`. */
export function toolCallOf(
  part: GeminiPart,
  ctx: ResponseContext,
  choiceIndex: number,
  toolIndex: number,
): OpenAIToolCall {
  const fn = part.functionCall ?? {};
  const call: OpenAIToolCall = {
    id: toolCallId(ctx, choiceIndex, toolIndex, fn.id),
    type: "function",
    function: { name: fn.name ?? "", arguments: JSON.stringify(fn.args ?? {}) },
  };
  if (part.thoughtSignature) call.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return call;
}

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  thoughtSignature?: string;
  functionCall?: { id?: string; name?: string; args?: unknown };
}

export interface GeminiCandidate {
  index?: number;
  content?: { parts?: GeminiPart[] };
  finishReason?: string;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: unknown;
}

/**
 * A `generateContent` answer as an OpenAI `chat.completion`: one choice per candidate; a prompt
 * blocked before any candidate (`promptFeedback.blockReason`) is one empty `content_filter` choice.
 */
export function parseGenerateContent(
  json: unknown,
  ctx: ResponseContext,
): { body: Record<string, unknown>; usage: TokenUsage | null } {
  const response = (json ?? {}) as GeminiResponse;
  const candidates = [...(response.candidates ?? [])].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const choices: ChoiceDraft[] = candidates.map((candidate) => {
    const index = candidate.index ?? 0;
    const choice: ChoiceDraft = { index, text: "", reasoning: "", toolCalls: [], finishReason: "stop" };
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall) choice.toolCalls.push(toolCallOf(part, ctx, index, choice.toolCalls.length));
      else if (part.thought) choice.reasoning += part.text ?? "";
      else if (part.text) choice.text += part.text;
    }
    choice.finishReason = finishReasonOf(candidate.finishReason, choice.toolCalls.length > 0);
    return choice;
  });
  if (choices.length === 0) {
    const blocked = response.promptFeedback?.blockReason !== undefined;
    choices.push({
      index: 0,
      text: "",
      reasoning: "",
      toolCalls: [],
      finishReason: blocked ? "content_filter" : "stop",
    });
  }
  const usage = geminiUsage(response.usageMetadata);
  return { body: completionBody(ctx, choices, usage), usage };
}
