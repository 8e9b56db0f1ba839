import type { OutputFormat } from "../../proxy/output";
import { openAIEmbeddingsToGemini, openAIResponseToGemini } from "./response";
import { geminiStreamFormat } from "./stream";

/**
 * Gemini output for a translated answer (another provider answered): generateContent responses,
 * SSE events, or embeddings in Google's shapes.
 * @example proxy(c, { ..., output: geminiOutput(model, "generateContent") }, timing)
 */
export function geminiOutput(requestedModel: string, embed: "single" | "batch" | null): OutputFormat {
  return {
    stream: () => geminiStreamFormat(requestedModel),
    json: (body) =>
      embed
        ? openAIEmbeddingsToGemini(body, embed === "single")
        : openAIResponseToGemini(body, requestedModel),
  };
}

/**
 * Output of a native Gemini answer: the stream relayed byte for byte (only a cut the gateway
 * makes adds Google's error object), the JSON answer as Gemini wrote it.
 * @example native: { kind: "gemini", output: geminiNativeOutput(model), ... }
 */
export function geminiNativeOutput(requestedModel: string): OutputFormat {
  return {
    raw: true,
    stream: () => ({ ...geminiStreamFormat(requestedModel), frame: () => null, raw: true }),
    json: (body) => body,
  };
}
