import {
  type Endpoint,
  MalformedUpstreamError,
  type ProviderAdapter,
  type ProviderError,
  type StreamTranslator,
  type Target,
  type TokenUsage,
  type UpstreamRequest,
} from "./types";

const PATHS: Record<Endpoint, string> = {
  chat: "/chat/completions",
  completions: "/completions",
  embeddings: "/embeddings",
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
    if (stream && endpoint !== "embeddings") {
      const streamOptions = (body.stream_options as Record<string, unknown> | undefined) ?? {};
      upstreamBody.stream_options = { ...streamOptions, include_usage: true };
    }
    return {
      url: target.baseUrl + PATHS[endpoint],
      init: { method: "POST", headers: authHeaders(target), body: JSON.stringify(upstreamBody) },
    };
  },

  parseResponse(_endpoint, json) {
    const body = json as Record<string, unknown>;
    return { body, usage: readOpenAIUsage(body.usage) };
  },

  streamTranslator(): StreamTranslator {
    let usage: TokenUsage | null = null;
    let complete = false;
    let text = "";
    return {
      push({ data }) {
        if (data === "[DONE]") {
          complete = true;
          return [data];
        }
        // The chunk passes through as the upstream wrote it; parsing only checks it and reads usage.
        const chunk = parseChunk(data);
        if (chunk.usage) usage = readOpenAIUsage(chunk.usage) ?? usage;
        for (const choice of chunk.choices ?? []) text += choiceText(choice);
        return [data];
      },
      finish: () => ({ payloads: [], complete }),
      usage: () => usage,
      generatedText: () => text,
    };
  },

  parseError: parseOpenAIError,
};

interface OpenAIChunk {
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

/** Reads `{"error": {...}}` bodies; anything else becomes a generic message with the status. */
export function parseOpenAIError(status: number, bodyText: string): ProviderError {
  try {
    const parsed = JSON.parse(bodyText) as { error?: Partial<ProviderError> | string };
    const error = typeof parsed.error === "string" ? { message: parsed.error } : parsed.error;
    if (error?.message) {
      return {
        message: error.message,
        type: error.type ?? "api_error",
        code: error.code ?? null,
        param: error.param ?? null,
      };
    }
  } catch {
    // Not JSON: fall through to a generic message.
  }
  return { message: `Upstream returned HTTP ${status}.`, type: "api_error", code: null, param: null };
}
