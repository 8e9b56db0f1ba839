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

/** What a GatewayError says: the HTTP status and the fields of OpenAI's error body. */
export interface GatewayErrorInit {
  status: number;
  /** One of ErrorType for the gateway's own errors; a provider's own type passes through. */
  type: ErrorType | (string & {});
  message: string;
  code?: string | null;
  param?: string | null;
  /** Extra response headers (Retry-After, rate-limit headers). */
  headers?: Record<string, string>;
}

/**
 * A failure the gateway answers with an OpenAI-shaped body; throw it anywhere in a handler.
 * @example throw new GatewayError({ status: 503, type: "server_error", message: "Try again.", code: "limits_unavailable" })
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType | (string & {});
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.name = "GatewayError";
    this.status = init.status;
    this.type = init.type;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/**
 * The body an API answers errors with, given the OpenAI-shaped one and the status: OpenAI's own
 * by default; a route of another API's shape (Anthropic's /v1/messages) puts its own on the
 * request context (`errorShape`) before anything can fail.
 */
export type ErrorShape = (status: number, body: OpenAIErrorBody) => unknown;

/**
 * Builds the JSON response for any error, in the caller's API shape (OpenAI's unless `shape`
 * says otherwise); unknown errors become a bare 500 without internals.
 * @example return errorResponse(err, c.res.headers, c.get("errorShape"))
 */
export function errorResponse(err: unknown, extraHeaders?: HeadersInit, shape?: ErrorShape): Response {
  const error = err instanceof GatewayError ? err : internalError();
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "application/json");
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  const body = shape ? shape(error.status, error.toBody()) : error.toBody();
  return new Response(JSON.stringify(body), { status: error.status, headers });
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError({ status: 400, type: "invalid_request_error", message, code, param });

export const notFound = (message: string, code: string | null = null) =>
  new GatewayError({ status: 404, type: "invalid_request_error", message, code });

export const invalidApiKey = (message = "Incorrect or missing API key.") =>
  new GatewayError({ status: 401, type: "authentication_error", message, code: "invalid_api_key" });

export const forbidden = (message: string, code: string | null = "permission_denied") =>
  new GatewayError({ status: 403, type: "permission_error", message, code });

export const internalError = () =>
  new GatewayError({
    status: 500,
    type: "server_error",
    message: "The gateway failed to handle the request.",
    code: "internal_error",
  });
