import type { Hono, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context";
import { errorResponse, GatewayError } from "./errors";
import { ServerTiming } from "./proxy/timing";
import type { Services } from "./services";

/** Paths the gateway serves, so a wrong method gets 405 rather than 404. */
const KNOWN_PATHS = new Set([
  "/healthz",
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/models",
  "/v1/messages",
  "/v1/messages/count_tokens",
  "/v1/responses",
]);

/** The per-request state every API and admin route reads: services, clocks, the request id. */
export function requestState(services: Services): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const startedAt = services.now();
    // Always the gateway's: a caller-chosen id could make two requests (or two tenants) share a
    // usage row. The caller's own id is a label, read by `clientRequestId` on /v1 routes.
    const requestId = crypto.randomUUID();
    c.set("services", services);
    c.set("startedAt", startedAt);
    c.set("timing", new ServerTiming(services.now, startedAt));
    c.set("requestId", requestId);
    c.set("clientRequestId", null);
    c.set("tags", null);
    // Set before the handler, so responses built with c.json/c.body carry it from the start:
    // setting a header on a finished response makes Hono copy the whole Response.
    c.header("x-request-id", requestId);
    await next();
    // Responses a handler built itself (a raw Response) did not get it.
    if (!c.res.headers.has("x-request-id")) c.header("x-request-id", requestId);
  };
}

/**
 * What every Hono app of the gateway answers alike (the APIs' and the lazily loaded admin's):
 * 404 for unknown paths, 405 for a known path with a wrong method, and errors in the caller's shape.
 * @example answerErrors(app, services)
 */
export function answerErrors(app: Hono<AppEnv>, services: Services): void {
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const error = KNOWN_PATHS.has(path)
      ? new GatewayError({
          status: 405,
          type: "invalid_request_error",
          message: `Method ${c.req.method} is not allowed on ${path}.`,
          code: "method_not_allowed",
        })
      : new GatewayError({
          status: 404,
          type: "invalid_request_error",
          message: `Unknown request URL: ${c.req.method} ${path}.`,
          code: "unknown_url",
        });
    // Paths outside the APIs never got the per-request state: they get an id of their own.
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    return errorResponse(error, { "x-request-id": requestId }, c.get("errorShape"));
  });

  app.onError((err, c) => {
    if (!(err instanceof GatewayError)) services.log("error", "unhandled error", { error: describe(err) });
    // Headers set before the failure (request id, rate limits, attempts) still reach the caller.
    const headers = new Headers(c.res.headers);
    headers.delete("content-type");
    headers.delete("content-length");
    return errorResponse(err, headers, c.get("errorShape"));
  });
}

/** Names an error for logs without its stack or any request data. */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
