import { Hono, type MiddlewareHandler } from "hono";
import { adminTokenMatches, extractToken } from "../auth";
import type { AppEnv } from "../context";
import { GatewayError } from "../errors";
import { readLiveStrip, renderPrometheus, SERIES_KEY } from "../metrics";
import { breakerRedisKey, targetKey } from "../routing";

/**
 * `GET /admin/metrics`: the Prometheus text exposition of the live metrics; `GET
 * /admin/metrics/live`: the dashboard's live strip (last 5 minutes) and the breaker state of every
 * configured target. Both accept the admin token or the read-only `METRICS_TOKEN`, so a scraper
 * never holds admin rights. Mounted before the admin-only middleware.
 * @example admin.route("/metrics", metricsRoutes()); admin.use("*", requireAdmin())
 */
export function metricsRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("*", requireMetricsReader());

  app.get("/", async (c) => {
    const fields = await unavailableOnFailure(() => c.get("services").redis.hgetall(SERIES_KEY));
    return c.body(renderPrometheus(fields ?? {}), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  });

  app.get("/live", async (c) => {
    const services = c.get("services");
    const targets = configuredTargets(services.config.routes);
    const [strip, shared] = await unavailableOnFailure(() =>
      Promise.all([
        readLiveStrip(services.redis, services.now()),
        targets.length ? services.redis.mget<(string | number | null)[]>(targets.map(breakerRedisKey)) : [],
      ]),
    );
    const now = services.now();
    const breakers = targets.map((target, i) => {
      const until = Number(shared[i] ?? 0);
      return {
        target,
        shared: until > now ? "open" : "closed",
        open_until: until > now ? new Date(until).toISOString() : null,
        this_instance: services.breakers.phase(target),
      };
    });
    return c.json({ live: strip, breakers }, 200, { "cache-control": "no-store" });
  });

  return app;
}

/** The admin token or METRICS_TOKEN, each compared in constant time; anything else is a 401. */
function requireMetricsReader(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const env = c.get("services").env;
    const presented = extractToken(c.req.raw.headers);
    const metricsToken = typeof env.METRICS_TOKEN === "string" ? env.METRICS_TOKEN : "";
    const [admin, reader] = await Promise.all([
      adminTokenMatches(presented, env.ADMIN_TOKEN ?? ""),
      adminTokenMatches(presented, metricsToken),
    ]);
    if (!admin && !reader) {
      throw new GatewayError({
        status: 401,
        type: "authentication_error",
        message: "Admin or metrics credentials required.",
        code: "invalid_admin_token",
      });
    }
    await next();
  };
}

/** Every target the routes name, once each, as the breaker names them (`provider/model`). */
function configuredTargets(routes: AppEnv["Variables"]["services"]["config"]["routes"]): string[] {
  const names = new Set<string>();
  for (const route of Object.values(routes)) for (const target of route.targets) names.add(targetKey(target));
  return [...names].sort();
}

async function unavailableOnFailure<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch {
    throw new GatewayError({
      status: 503,
      type: "server_error",
      message: "The metrics store is unreachable; try again shortly.",
      code: "metrics_unavailable",
    });
  }
}
