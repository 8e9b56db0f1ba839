import type { ProviderError } from "../types";

/** Anthropic error types that have no OpenAI equivalent of the same name. */
const TYPE_MAP = new Map([
  ["authentication_error", { type: "authentication_error", code: "invalid_api_key" }],
  ["billing_error", { type: "insufficient_quota", code: "insufficient_quota" }],
  ["request_too_large", { type: "invalid_request_error", code: "request_too_large" }],
  ["overloaded_error", { type: "api_error", code: "overloaded" }],
  ["timeout_error", { type: "timeout_error", code: "timeout" }],
]);

/** Types that OpenAI and the gateway spell the same way. */
const SAME_NAME = new Set([
  "invalid_request_error",
  "permission_error",
  "not_found_error",
  "rate_limit_error",
  "api_error",
]);

/** `{"type":"error","error":{"type","message"}}` as an OpenAI-shaped error, or null if it is not one. */
export function parseAnthropicErrorBody(body: unknown): ProviderError | null {
  const error = (body as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  if (!error || typeof error.message !== "string") return null;
  const anthropicType = typeof error.type === "string" ? error.type : "api_error";
  const mapped = TYPE_MAP.get(anthropicType);
  if (mapped) return { message: error.message, type: mapped.type, code: mapped.code, param: null };
  return {
    message: error.message,
    type: SAME_NAME.has(anthropicType) ? anthropicType : "api_error",
    code: anthropicType,
    param: null,
  };
}

/**
 * An Anthropic error response as an OpenAI-shaped error; a body that is not Anthropic's
 * (a proxy's HTML page, an empty body) becomes a generic message with the status.
 * @example parseAnthropicError(529, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
 */
export function parseAnthropicError(status: number, bodyText: string): ProviderError {
  try {
    const parsed = parseAnthropicErrorBody(JSON.parse(bodyText));
    if (parsed) return parsed;
  } catch {
    // Not JSON: fall through.
  }
  return { message: `Upstream returned HTTP ${status}.`, type: "api_error", code: null, param: null };
}
