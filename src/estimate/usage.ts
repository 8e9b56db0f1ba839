import type { TokenUsage } from "../providers/types";
import { estimateTextTokens } from "./text";

/**
 * Usage counted by the gateway when the upstream reported none (client abort, upstream drop, a
 * provider without usage): the prompt estimate made before the call and the text actually
 * delivered, at about four bytes a token (./text.ts). Hidden reasoning cannot be seen, so it is not
 * counted; the row is marked `estimated`.
 * @example estimateUsage(promptTokens, streamedText)
 */
export function estimateUsage(promptTokens: number, streamedText: string): TokenUsage {
  return {
    promptTokens: Math.max(0, Math.round(promptTokens)),
    completionTokens: streamedText ? estimateTextTokens(streamedText) : 0,
    cachedReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
}
