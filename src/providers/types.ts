/**
 * The contract between the proxy and the wire-format adapters. Internally every request and
 * answer is OpenAI-shaped; an adapter maps that to one provider's wire format and back.
 * Adapters never import limits, routing or metering.
 */

export type WireFormat = "openai" | "anthropic" | "gemini";

/** The OpenAI endpoints the gateway proxies; `responses` only to providers that speak it natively. */
export type Endpoint = "chat" | "completions" | "embeddings" | "responses";

/** One concrete upstream: a configured provider plus the model id it knows. */
export interface Target {
  /** Provider name from config, e.g. "openai", "mock-anthropic". */
  provider: string;
  kind: WireFormat;
  /** Base URL without trailing slash, e.g. https://api.openai.com/v1 */
  baseUrl: string;
  /** The upstream's own model id. */
  model: string;
  /** Resolved secret; never logged. */
  apiKey?: string;
  headers: Record<string, string>;
}

/**
 * Token counts in disjoint-friendly OpenAI terms: cached and cache-write tokens are parts of
 * promptTokens, reasoning tokens a part of completionTokens, so cost never counts a token twice.
 */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedReadTokens: number;
  cacheWriteTokens: number;
  /** The part of cacheWriteTokens written for one hour (Anthropic's `ephemeral_1h_input_tokens`). */
  cacheWrite1hTokens?: number;
  reasoningTokens: number;
}

export interface UpstreamRequest {
  url: string;
  init: RequestInit & { method: string; headers: Record<string, string>; body?: string };
}

/** Per-request facts an adapter needs to shape the answer the caller sees. */
export interface ResponseContext {
  /** The model name the caller asked for (answers carry it, not the upstream id). */
  requestedModel: string;
  /** Stable id for the completion, e.g. chatcmpl-<request id>. */
  id: string;
  /** Unix seconds. */
  created: number;
}

/** An OpenAI-shaped error extracted from a provider's error body. */
export interface ProviderError {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
}

/**
 * Turns upstream SSE events into OpenAI `chat.completion.chunk` payloads (JSON text, or "[DONE]").
 * The usage chunk is always produced (choices: []) when the upstream reported usage; the proxy
 * decides whether the caller sees it. After a provider's own error, `push` produces nothing more.
 */
export interface StreamTranslator {
  /** One upstream SSE event in; zero or more OpenAI `data:` payloads out. */
  push(event: { event?: string; data: string }): string[];
  /** Upstream ended cleanly or not: trailing payloads and whether the answer was complete. */
  finish(): { payloads: string[]; complete: boolean };
  /** Usage reported by the upstream so far, or null. */
  usage(): TokenUsage | null;
  /** Text generated so far (content and tool-call arguments), to estimate usage the upstream never reported. */
  generatedText(): string;
  /**
   * The error the provider itself reported inside the stream (Anthropic's `error` event, an
   * OpenAI error chunk, a Gemini error object), OpenAI-shaped, or null. It ends the answer: the
   * relay passes it on to the caller.
   */
  upstreamError(): ProviderError | null;
}

export interface TranslatorOptions {
  /**
   * The answer is forwarded natively and only metered (usage, errors, the end): events that carry
   * nothing but generated text may be kept unread, and read only if `generatedText()` is asked
   * for (when the provider reported no usage). Their payloads are never framed for anyone.
   */
  meterOnly?: boolean;
}

/** Thrown by a translator for an upstream event it cannot parse; the proxy ends the stream with an error. */
export class MalformedUpstreamError extends Error {
  constructor(message = "The upstream sent a malformed stream event.") {
    super(message);
    this.name = "MalformedUpstreamError";
  }
}

export interface ProviderAdapter {
  kind: WireFormat;
  /** Builds the upstream request for an OpenAI-shaped body (validated; unknown fields kept). */
  buildRequest(
    endpoint: Endpoint,
    body: Record<string, unknown>,
    target: Target,
    stream: boolean,
  ): UpstreamRequest;
  /** Non-stream upstream JSON to the OpenAI answer plus its usage. */
  parseResponse(
    endpoint: Endpoint,
    json: unknown,
    ctx: ResponseContext,
  ): { body: Record<string, unknown>; usage: TokenUsage | null };
  /** A fresh translator for one streamed answer. */
  streamTranslator(endpoint: Endpoint, ctx: ResponseContext, options?: TranslatorOptions): StreamTranslator;
  /** The upstream's error body, whatever its format, as an OpenAI-shaped error. */
  parseError(status: number, bodyText: string): ProviderError;
}

export const ZERO_USAGE: TokenUsage = Object.freeze({
  promptTokens: 0,
  completionTokens: 0,
  cachedReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});
