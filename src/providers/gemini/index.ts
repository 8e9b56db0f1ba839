import { errorReader } from "../common/error-body";
import { UnsupportedFeatureError } from "../common/errors";
import type { Endpoint, ProviderAdapter, Target, UpstreamRequest } from "../types";
import { buildEmbeddingsRequest, parseEmbeddings } from "./embeddings";
import { parseGeminiErrorBody } from "./error";
import { buildGenerateContentBody } from "./request";
import { parseGenerateContent } from "./response";
import { createGeminiStreamTranslator } from "./stream";

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

/** Request headers for Gemini; the key goes in `x-goog-api-key`, never in the URL. */
export function geminiHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", ...target.headers };
  if (target.apiKey) headers["x-goog-api-key"] = target.apiKey;
  return headers;
}

function post(url: string, target: Target, body: Record<string, unknown>): UpstreamRequest {
  return { url, init: { method: "POST", headers: geminiHeaders(target), body: JSON.stringify(body) } };
}

/** The model id as a URL path segment; config may name it with or without the `models/` prefix. */
function modelPath(model: string): string {
  return encodeURIComponent(model.replace(/^models\//, ""));
}

function assertSupported(endpoint: Endpoint): void {
  if (endpoint === "completions") {
    throw new UnsupportedFeatureError(
      "Gemini has no legacy completions endpoint: use chat completions.",
      null,
      "unsupported_endpoint",
    );
  }
}
