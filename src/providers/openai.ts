import { errorReader, UNREADABLE_STREAM_ERROR } from "./common/error-body";
import { createResponsesStreamReader, readResponsesUsage } from "./openai-responses";
import {
  type Endpoint,
  MalformedUpstreamError,
  type ProviderAdapter,
  type ProviderError,
  type StreamTranslator,
  type Target,
  type TokenUsage,
  type TranslatorOptions,
  type UpstreamRequest,
} from "./types";

const PATHS: Record<Endpoint, string> = {
  chat: "/chat/completions",
  completions: "/completions",
  embeddings: "/embeddings",
  responses: "/responses",
};

/**
 * The OpenAI wire format, spoken by OpenAI, DeepSeek, HolySheep and every OpenAI-compatible relay.
 * Bodies pass through untouched except `model` (the upstream's id) and, for streams, a request
 * for usage so every streamed answer can be metered.
 */
export const openaiAdapter: ProviderAdapter = {
  kind: "openai",

  buildRequest(endpoint, body, target, stream): UpstreamRequest {
    const upstreamBody: Record<string, unknown> = { ...body, model: target.model };
    // The Responses API reports usage in its final event unasked (and has no include_usage).
    if (stream && endpoint !== "embeddings" && endpoint !== "responses") {
      const streamOptions = (body.stream_options as Record<string, unknown> | undefined) ?? {};
      upstreamBody.stream_options = { ...streamOptions, include_usage: true };
    }
    return {
      url: target.baseUrl + PATHS[endpoint],
      init: { method: "POST", headers: authHeaders(target), body: JSON.stringify(upstreamBody) },
    };
  },

  parseResponse(endpoint, json) {
    const body = json as Record<string, unknown>;
    const usage = endpoint === "responses" ? readResponsesUsage(body.usage) : readOpenAIUsage(body.usage);
    return { body, usage };
  },

  streamTranslator: (endpoint, _ctx, options) =>
    endpoint === "responses" ? createResponsesStreamReader() : createOpenAIStreamTranslator(options),

  parseError: errorReader(parseOpenAIErrorBody),
};

/**
 * Reads an OpenAI stream as it passes: every chunk goes on as the upstream wrote it, parsed only
 * to check it and to read usage and text. An error chunk (`{"error":{...}}`) ends the answer
 * incomplete and is kept for `upstreamError()`, for the relay to end the caller's stream with.
 * `meterOnly` (the stream forwarded natively) keeps chunks that cannot hold a usage object or an
 * error unread until `generatedText` needs them; a malformed one then goes unnoticed (the client
 * had it as it came).
 * @example const translator = createOpenAIStreamTranslator(); translator.push({ data })
 */
export function createOpenAIStreamTranslator(options: TranslatorOptions = {}): StreamTranslator {
  let usage: TokenUsage | null = null;
  let complete = false;
  let failure: ProviderError | null = null;
  let text = "";
  let unread: string[] = [];
  let parsedOne = false;
  const read = (chunk: OpenAIChunk) => {
    for (const choice of chunk.choices ?? []) text += choiceText(choice);
  };
  return {
    push({ data }) {
      if (failure) return [];
      if (data === "[DONE]") {
        complete = true;
        return [data];
      }
      // The first chunk is always read: one that is broken can still fall back.
      if (options.meterOnly && parsedOne && !mayHaveUsageObject(data) && !data.includes('"error"')) {
        unread.push(data);
        return [data];
      }
      const chunk = parseChunk(data);
      parsedOne = true;
      if (chunk.error != null) {
        failure = parseOpenAIErrorBody(chunk) ?? UNREADABLE_STREAM_ERROR;
        return [];
      }
      if (chunk.usage) usage = readOpenAIUsage(chunk.usage) ?? usage;
      read(chunk);
      return [data];
    },
    finish: () => ({ payloads: [], complete }),
    usage: () => usage,
    generatedText() {
      for (const data of unread) {
        try {
          read(JSON.parse(data) as OpenAIChunk);
        } catch {
          // Already with the client as it came: it adds no text.
        }
      }
      unread = [];
      return text;
    },
    upstreamError: () => failure,
  };
}

/**
 * Whether a chunk's text has a usage object (`"usage":{` or `"usage": {`). Most chunks carry none
 * (OpenAI sends `"usage":null` on each one), so one scan rules them out without parsing.
 * @example mayHaveUsageObject('{"choices":[],"usage":{"prompt_tokens":3}}') // true
 */
export function mayHaveUsageObject(payload: string): boolean {
  for (let at = payload.indexOf('"usage":'); at !== -1; at = payload.indexOf('"usage":', at + 8)) {
    const next = payload.charCodeAt(at + 8);
    if (next === OPEN_BRACE || (next === SPACE && payload.charCodeAt(at + 9) === OPEN_BRACE)) return true;
  }
  return false;
}

const OPEN_BRACE = 0x7b;
const SPACE = 0x20;

interface OpenAIChunk {
  error?: unknown;
  usage?: unknown;
  choices?: {
    text?: string;
    delta?: { content?: string | null; tool_calls?: { function?: { arguments?: string } }[] };
  }[];
}

function parseChunk(data: string): OpenAIChunk {
  try {
    const chunk = JSON.parse(data) as OpenAIChunk | null;
    if (chunk && typeof chunk === "object") return chunk;
  } catch {
    // Reported below as malformed.
  }
  throw new MalformedUpstreamError();
}

function choiceText(choice: NonNullable<OpenAIChunk["choices"]>[number]): string {
  let text = choice.text ?? choice.delta?.content ?? "";
  for (const call of choice.delta?.tool_calls ?? []) text += call.function?.arguments ?? "";
  return text;
}

/** Request headers for an OpenAI-compatible upstream; the key goes in Authorization only. */
export function authHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", ...target.headers };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  return headers;
}

/**
 * Normalises OpenAI's usage object, and DeepSeek's cache hit/miss variant of it.
 * @example readOpenAIUsage({ prompt_tokens: 10, completion_tokens: 5 })
 */
export function readOpenAIUsage(raw: unknown): TokenUsage | null {
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Record<string, unknown>;
  const promptDetails = (u.prompt_tokens_details ?? {}) as Record<string, unknown>;
  const completionDetails = (u.completion_tokens_details ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return {
    promptTokens: num(u.prompt_tokens),
    completionTokens: num(u.completion_tokens),
    cachedReadTokens: num(promptDetails.cached_tokens) || num(u.prompt_cache_hit_tokens),
    cacheWriteTokens: 0,
    reasoningTokens: num(completionDetails.reasoning_tokens),
  };
}

/**
 * `{"error": {...}}` (or `{"error": "text"}`, as some compatible vendors send it), an error
 * response's body or a stream's error chunk, as an OpenAI-shaped error, or null if it is not one.
 * @example parseOpenAIErrorBody({ error: { message: "Slow down", type: "requests", code: "rate_limit_exceeded" } })
 */
export function parseOpenAIErrorBody(body: unknown): ProviderError | null {
  const raw = (body as { error?: Partial<ProviderError> | string } | null)?.error;
  const error = typeof raw === "string" ? { message: raw } : raw;
  if (!error?.message) return null;
  return {
    message: error.message,
    type: error.type ?? "api_error",
    code: error.code ?? null,
    param: error.param ?? null,
  };
}
