import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/**
 * Starts the request's trace when tracing is configured (the caller's `traceparent` becomes its
 * parent). A metered request ends its span when it settles, with its usage; any other (refused
 * before the gate: bad key, bad body) ends here with its status.
 * @example app.use("/v1/*", traceRequests())
 */
export function traceRequests(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const loadTracing = c.get("services").tracing;
    if (!loadTracing) return next();
    const tracing = await loadTracing();
    if (!tracing) return next();
    const trace = tracing.start({
      headers: c.req.raw.headers,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      requestId: c.get("requestId"),
    });
    c.set("trace", trace);
    await next();
    if (!trace.owned) c.executionCtx.waitUntil(trace.finish(null, null, c.res.status));
  };
}
