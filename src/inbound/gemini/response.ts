import { readOpenAIUsage } from "../../providers";

type Json = Record<string, unknown>;

const FINISH_REASONS: ReadonlyMap<unknown, string> = new Map([
  ["stop", "STOP"],
  ["tool_calls", "STOP"],
  ["function_call", "STOP"],
  ["length", "MAX_TOKENS"],
  ["content_filter", "SAFETY"],
]);

/**
 * OpenAI's finish_reason as Gemini's finishReason.
 * @example finishReasonOf("length") // "MAX_TOKENS"
 */
export function finishReasonOf(reason: unknown): string {
  return FINISH_REASONS.get(reason) ?? "STOP";
}

/**
 * An OpenAI usage object as Gemini's usageMetadata: cached tokens are a part of the prompt count,
 * thoughts apart from the candidates count.
 * @example usageMetadataOf({ prompt_tokens: 10, completion_tokens: 5 }) // { promptTokenCount: 10, ... }
 */
export function usageMetadataOf(openaiUsage: unknown): Json | undefined {
  const usage = readOpenAIUsage(openaiUsage);
  if (!usage) return undefined;
  return {
    promptTokenCount: usage.promptTokens,
    candidatesTokenCount: usage.completionTokens - usage.reasoningTokens,
    totalTokenCount: usage.promptTokens + usage.completionTokens,
    ...(usage.cachedReadTokens > 0 ? { cachedContentTokenCount: usage.cachedReadTokens } : {}),
    ...(usage.reasoningTokens > 0 ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
  };
}

/**
 * The parts of one OpenAI message: its text, then its tool calls as function calls.
 * @example partsOf({ content: "Hi" }) // [{ text: "Hi" }]
 */
export function partsOf(message: { content?: unknown; tool_calls?: unknown }): Json[] {
  const parts: Json[] = [];
  if (typeof message.content === "string" && message.content !== "") parts.push({ text: message.content });
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    const fn = (call as { function?: { name?: unknown; arguments?: unknown } }).function;
    if (!fn || typeof fn.name !== "string") continue;
    parts.push({ functionCall: { name: fn.name, args: parseArgs(fn.arguments) } });
  }
  return parts.length > 0 ? parts : [{ text: "" }];
}

/**
 * An OpenAI chat completion as Gemini's GenerateContentResponse.
 * @example openAIResponseToGemini(completion, "gemini-2.5-flash")
 */
export function openAIResponseToGemini(body: Json, requestedModel: string): Json {
  const choices = Array.isArray(body.choices) ? (body.choices as Json[]) : [];
  return {
    candidates: choices.map((choice, index) => ({
      content: { role: "model", parts: partsOf((choice.message ?? {}) as Json) },
      finishReason: finishReasonOf(choice.finish_reason),
      index: typeof choice.index === "number" ? choice.index : index,
    })),
    usageMetadata: usageMetadataOf(body.usage),
    modelVersion: requestedModel,
    responseId: typeof body.id === "string" ? body.id : undefined,
  };
}

/**
 * An OpenAI embeddings list as Gemini's answer: one `embedding` for embedContent, else `embeddings`.
 * @example openAIEmbeddingsToGemini({ data: [{ embedding: [0.1] }] }, true) // { embedding: { values: [0.1] } }
 */
export function openAIEmbeddingsToGemini(body: Json, single: boolean): Json {
  const data = Array.isArray(body.data) ? (body.data as { embedding?: unknown }[]) : [];
  const vectors = data.map((item) => ({ values: Array.isArray(item.embedding) ? item.embedding : [] }));
  return single ? { embedding: vectors[0] ?? { values: [] } } : { embeddings: vectors };
}

function parseArgs(text: unknown): unknown {
  if (typeof text !== "string" || text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
