/**
 * OpenAI-shaped errors, the one place the gateway builds an error body.
 * Every client-facing failure is `{"error": {"message", "type", "param", "code"}}` with the
 * status OpenAI would use, so the official SDKs raise their usual exception classes.
 */

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "insufficient_quota"
  | "api_error"
  | "server_error"
  | "timeout_error";

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A failure the gateway answers with an OpenAI-shaped body; throw it anywhere in a handler. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    /** One of ErrorType for the gateway's own errors; a provider's own type passes through. */
    readonly type: ErrorType | (string & {}),
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GatewayError";
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Builds the JSON response for any error; unknown errors become a bare 500 without internals. */
export function errorResponse(err: unknown, extraHeaders?: HeadersInit): Response {
  const error = err instanceof GatewayError ? err : internalError();
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "application/json");
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  return new Response(JSON.stringify(error.toBody()), { status: error.status, headers });
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, "invalid_request_error", message, code, param);

export const notFound = (message: string, code: string | null = null) =>
  new GatewayError(404, "invalid_request_error", message, code);

export const invalidApiKey = (message = "Incorrect or missing API key.") =>
  new GatewayError(401, "authentication_error", message, "invalid_api_key");

export const forbidden = (message: string, code: string | null = "permission_denied") =>
  new GatewayError(403, "permission_error", message, code);

export const internalError = () =>
  new GatewayError(500, "server_error", "The gateway failed to handle the request.", "internal_error");
