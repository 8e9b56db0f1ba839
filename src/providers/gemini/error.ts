import type { ProviderError } from "../types";

/** Google RPC status names as OpenAI error types. */
const TYPE_OF_STATUS = new Map([
  ["INVALID_ARGUMENT", "invalid_request_error"],
  ["FAILED_PRECONDITION", "invalid_request_error"],
  ["OUT_OF_RANGE", "invalid_request_error"],
  ["UNAUTHENTICATED", "authentication_error"],
  ["PERMISSION_DENIED", "permission_error"],
  ["NOT_FOUND", "not_found_error"],
  ["RESOURCE_EXHAUSTED", "rate_limit_error"],
  ["DEADLINE_EXCEEDED", "timeout_error"],
]);

interface GoogleError {
  code?: unknown;
  message?: unknown;
  status?: unknown;
  details?: unknown;
}

/**
 * `{"error":{"code","message","status"}}` (or the one-element array the streaming endpoint
 * sometimes wraps it in) as an OpenAI-shaped error, or null if it is not one. A bad key is a 400
 * INVALID_ARGUMENT at Google; its `API_KEY_INVALID` reason makes it an authentication error here.
 * @example parseGeminiErrorBody({ error: { code: 429, message: "Quota", status: "RESOURCE_EXHAUSTED" } })
 */
export function parseGeminiErrorBody(body: unknown): ProviderError | null {
  const container = Array.isArray(body) ? body[0] : body;
  const error = (container as { error?: GoogleError } | null)?.error;
  if (!error || typeof error.message !== "string") return null;
  const status = typeof error.status === "string" ? error.status : "";
  const details: unknown[] = Array.isArray(error.details) ? error.details : [];
  if (details.some((detail) => (detail as { reason?: unknown } | null)?.reason === "API_KEY_INVALID")) {
    return { message: error.message, type: "authentication_error", code: "invalid_api_key", param: null };
  }
  return {
    message: error.message,
    type: TYPE_OF_STATUS.get(status) ?? "api_error",
    code: status ? status.toLowerCase() : null,
    param: null,
  };
}
