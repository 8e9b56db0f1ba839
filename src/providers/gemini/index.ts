import { errorReader } from "../common/error-body";
import { UnsupportedFeatureError } from "../common/errors";
import type { Endpoint, ProviderAdapter, UpstreamRequest } from "../types";
import { buildEmbeddingsRequest, parseEmbeddings } from "./embeddings";
import { parseGeminiErrorBody } from "./error";
import { modelPath, post } from "./http";
import { buildGenerateContentBody } from "./request";
import { parseGenerateContent } from "./response";
import { createGeminiStreamTranslator } from "./stream";

export { geminiHeaders } from "./http";
export { type GeminiMethod, geminiCountTokensRequest, geminiPassthrough } from "./passthrough";
export { hasRemoteImages, type ImageFetcher, inlineRemoteImages } from "./remote-images";
export { geminiUsage } from "./response";

/**
 * The Gemini API wire format (`kind: gemini`, base URL like
 * https://generativelanguage.googleapis.com/v1beta): chat through `generateContent` /
 * `streamGenerateContent?alt=sse`, embeddings through `embedContent` / `batchEmbedContents`.
 */
export const geminiAdapter: ProviderAdapter = {
  kind: "gemini",

  buildRequest(endpoint, body, target, stream): UpstreamRequest {
    assertSupported(endpoint);
    const model = modelPath(target.model);
    if (endpoint === "embeddings") {
      const request = buildEmbeddingsRequest(body, model);
      return post(`${target.baseUrl}/models/${model}:${request.method}`, target, request.body);
    }
    const method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
    return post(`${target.baseUrl}/models/${model}:${method}`, target, buildGenerateContentBody(body));
  },

  parseResponse(endpoint, json, ctx) {
    assertSupported(endpoint);
    return endpoint === "embeddings" ? parseEmbeddings(json, ctx) : parseGenerateContent(json, ctx);
  },

  streamTranslator(endpoint, ctx) {
    assertSupported(endpoint);
    return createGeminiStreamTranslator(ctx);
  },

  parseError: errorReader(parseGeminiErrorBody),
};

function assertSupported(endpoint: Endpoint): void {
  if (endpoint === "completions" || endpoint === "responses") {
    throw new UnsupportedFeatureError(
      `Gemini has no ${endpoint === "responses" ? "Responses API" : "legacy completions"} endpoint: use chat completions.`,
      null,
      "unsupported_endpoint",
    );
  }
}
