import { countTextTokens } from "../limits/tokens";
import type { TokenUsage } from "../providers/types";

/**
 * Usage counted by the gateway when the upstream reported none (client abort, upstream drop, a
 * provider without usage): the prompt estimate made before the call and the text actually
 * delivered, tokenized with o200k_base. Hidden reasoning cannot be seen, so it is not counted;
 * the row is marked `estimated`.
 * @example estimateUsage(services.estimatePromptTokens("chat", body), streamedText)
 */
export function estimateUsage(promptTokens: number, streamedText: string): TokenUsage {
  return {
    promptTokens: Math.max(0, Math.round(promptTokens)),
    // The limits module's counter: one tokenizer in the bundle, and it accepts special-token text.
    completionTokens: streamedText ? countTextTokens(streamedText) : 0,
    cachedReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
}
