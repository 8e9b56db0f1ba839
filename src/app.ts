import { Hono, type MiddlewareHandler } from "hono";
import { adminRoutes } from "./admin";
import type { AppEnv } from "./context";
import { errorResponse, GatewayError } from "./errors";
import { geminiErrors, geminiKey, geminiRoutes } from "./inbound/gemini";
import { anthropicErrors, messagesRoutes } from "./inbound/messages";
import { responsesRoutes } from "./inbound/responses-api";
import { traceRequests } from "./observability/middleware";
import { authenticate } from "./proxy/authenticate";
import { clientRequestId } from "./proxy/client-request-id";
import { openaiRoutes } from "./proxy/routes";
import { requireScope } from "./proxy/scopes";
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

const HEALTHY = JSON.stringify({ status: "ok" });
const JSON_TYPE = "application/json";

/**
 * The Hono app: routes and middleware order, nothing else.
 * @example const app = createApp(services); await app.fetch(request, env, ctx)
 */
export function createApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Matched by nothing else, so Hono calls it directly (no middleware chain): a liveness probe
  // needs none of the per-request state, only its own id. A plain Response: c.json with a second
  // header builds a Headers object and sets each one.
  app.get(
    "/healthz",
    () =>
      new Response(HEALTHY, { headers: { "content-type": JSON_TYPE, "x-request-id": crypto.randomUUID() } }),
  );

  // One registration per prefix: in Hono "/x/*" also matches "/x". Every other path is a 404.
  const state = requestState(services);
  for (const prefix of ["/admin/*", "/v1/*", "/v1beta/*"]) app.use(prefix, state);

  app.route("/admin", adminRoutes());
  mountApis(app);

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

  return app;
}

/** The per-request state every API and admin route reads: services, clocks, the request id. */
function requestState(services: Services): MiddlewareHandler<AppEnv> {
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

/** The proxied APIs under /v1 and /v1beta, each behind the key, scope and error-shape middleware. */
function mountApis(app: Hono<AppEnv>): void {
  // One registration per path: in Hono "/x/*" also matches "/x".
  app.use("/v1/messages/*", anthropicErrors());
  // Gemini API calls (POST .../models/{model}:{method}) under /v1beta, and under /v1 where the
  // Google SDK sends them given a base URL: Google's error shape, keys as its SDKs send them.
  app.use("/v1/models/*", geminiErrors());
  app.use("/v1beta/*", geminiErrors());
  for (const base of ["/v1/*", "/v1beta/*"]) {
    app.use(base, traceRequests(), clientRequestId());
    app.use(base, authenticate(geminiKey));
    app.use(base, requireScope());
  }
  app.route("/v1", openaiRoutes());
  app.route("/v1", messagesRoutes());
  app.route("/v1", responsesRoutes());
  app.route("/v1", geminiRoutes());
  app.route("/v1beta", geminiRoutes());
}

/** Names an error for logs without its stack or any request data. */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
