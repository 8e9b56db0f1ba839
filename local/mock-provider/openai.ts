/** The OpenAI wire format's shared parts: error bodies, auth rule and usage objects (DeepSeek variant included). */

import type { Frame } from "./exchange";
import type { MockUsage } from "./reply";
import type { ProviderFormat } from "./route";

/** OpenAI's error `type` and `code` for an HTTP status. */
function errorKind(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: "invalid_request_error", code: "invalid_api_key" };
  if (status === 403) return { type: "permission_error", code: null };
  if (status === 404) return { type: "invalid_request_error", code: "model_not_found" };
  if (status === 429) return { type: "requests", code: "rate_limit_exceeded" };
  if (status >= 500) return { type: "server_error", code: null };
  return { type: "invalid_request_error", code: null };
}

/** The OpenAI wire format (also every OpenAI-compatible vendor). */
export const openaiFormat: ProviderFormat = {
  name: "openai",
  errorBody: (status, message) => {
    const { type, code } = errorKind(status);
    return { error: { message, type, param: null, code } };
  },
  streamErrorFrame: (): Frame => ({
    data: JSON.stringify({
      error: {
        message: "The server had an error while processing your request.",
        type: "server_error",
        param: null,
        code: null,
      },
    }),
  }),
  headers: (id) => ({ "x-request-id": `req_mock_${id}` }),
  authProblem: (headers) =>
    /^Bearer\s+\S+/i.test(headers.authorization ?? "")
      ? undefined
      : {
          status: 401,
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        },
};

/** Whether a model reports usage DeepSeek's way (prompt_cache_hit_tokens / prompt_cache_miss_tokens). */
export function isDeepSeekModel(model: string): boolean {
  return model.toLowerCase().startsWith("deepseek");
}

/**
 * The `usage` object of an OpenAI chat or completions answer. Cached tokens are a part of
 * prompt_tokens and reasoning tokens a part of completion_tokens; DeepSeek models report
 * prompt_cache_hit_tokens / prompt_cache_miss_tokens instead of prompt_tokens_details.
 */
export function openaiUsage(usage: MockUsage, model: string): Record<string, unknown> {
  const base = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.promptTokens + usage.outputTokens,
  };
  if (isDeepSeekModel(model)) {
    return {
      ...base,
      prompt_cache_hit_tokens: usage.cachedTokens,
      prompt_cache_miss_tokens: usage.promptTokens - usage.cachedTokens,
      completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    };
  }
  return {
    ...base,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** The `data: [DONE]` frame that ends OpenAI streams. */
export const DONE_FRAME: Frame = { data: "[DONE]" };

/** `stream_options.include_usage` of a request body. */
export function includesUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  return options?.include_usage === true;
}
