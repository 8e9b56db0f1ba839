import { errorReader } from "../common/error-body";
import type { ProviderAdapter, Target, UpstreamRequest } from "../types";
import { parseGeminiErrorBody } from "./error";
import { modelPath, post } from "./http";
import { geminiUsage } from "./response";
import { createGeminiStreamTranslator } from "./stream";

/** The Gemini API methods the gateway serves natively. */
export type GeminiMethod =
  | "generateContent"
  | "streamGenerateContent"
  | "countTokens"
  | "embedContent"
  | "batchEmbedContents";

/**
 * An adapter that carries a Gemini body to a Gemini target as the caller sent it: the model in
 * the URL is the target's, and so is any `model` field inside (`embedContent`, each request of
 * `batchEmbedContents`, which Gemini checks against the URL). The answer comes back as Gemini
 * wrote it; the stream translator only reads usage and errors (the relay runs raw).
 * @example callUpstream({ adapter: geminiPassthrough("generateContent"), body: original, ... })
 */
export function geminiPassthrough(method: GeminiMethod): ProviderAdapter {
  return {
    kind: "gemini",
    buildRequest(_endpoint, body, target, stream): UpstreamRequest {
      const call = stream ? "streamGenerateContent?alt=sse" : method;
      return post(
        `${target.baseUrl}/models/${modelPath(target.model)}:${call}`,
        target,
        withModel(body, target),
      );
    },
    parseResponse: (endpoint, json) => ({
      body: json as Record<string, unknown>,
      usage:
        endpoint === "chat" ? geminiUsage((json as { usageMetadata?: unknown } | null)?.usageMetadata) : null,
    }),
    streamTranslator: (_endpoint, ctx) => createGeminiStreamTranslator(ctx),
    parseError: errorReader(parseGeminiErrorBody),
  };
}

/**
 * A native `countTokens` request (Gemini counts with its own tokenizer).
 * @example const { url, init } = geminiCountTokensRequest(body, target)
 */
export function geminiCountTokensRequest(body: Record<string, unknown>, target: Target): UpstreamRequest {
  return post(
    `${target.baseUrl}/models/${modelPath(target.model)}:countTokens`,
    target,
    withModel(body, target),
  );
}

/** The body with the target's model wherever the caller's named one (key order kept). */
function withModel(body: Record<string, unknown>, target: Target): Record<string, unknown> {
  const name = `models/${target.model.replace(/^models\//, "")}`;
  const out: Record<string, unknown> = { ...body };
  if (typeof out.model === "string") out.model = name;
  if (Array.isArray(out.requests)) {
    out.requests = out.requests.map((request: unknown) =>
      request !== null && typeof request === "object" && "model" in request
        ? { ...request, model: name }
        : request,
    );
  }
  const nested = out.generateContentRequest;
  if (nested !== null && typeof nested === "object" && "model" in nested) {
    out.generateContentRequest = { ...nested, model: name };
  }
  return out;
}
