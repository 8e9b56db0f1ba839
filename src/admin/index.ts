import { Hono } from "hono";
import type { AppEnv } from "../context";
import { requireAdmin } from "./auth";
import { cacheRoutes } from "./cache";
import { dashboardRoutes } from "./dashboard";
import { keyRoutes } from "./keys";
import { metricsRoutes } from "./metrics";
import { rethrowStoreOutage } from "./store-outage";
import { tenantRoutes } from "./tenants";
import { usageRoutes } from "./usage";

/**
 * Everything under /admin: the admin token first, then key management and usage analytics.
 * @example app.route("/admin", adminRoutes())
 */
export function adminRoutes(): Hono<AppEnv> {
  const admin = new Hono<AppEnv>();
  // The page and Chart.js hold no data (a browser navigation can't send a bearer header); the
  // page asks for the token and calls the usage API with it.
  admin.route("/dashboard", dashboardRoutes());
  // Prometheus scrapes with the read-only METRICS_TOKEN (or the admin token): its own guard.
  admin.route("/metrics", metricsRoutes());
  admin.use("*", requireAdmin());
  // Postgres out: 503 `<store>_store_unavailable` (retry), not a 500.
  admin.route("/keys", keyRoutes().onError(rethrowStoreOutage("key")));
  admin.route("/tenants", tenantRoutes().onError(rethrowStoreOutage("tenant")));
  admin.route("/cache", cacheRoutes());
  admin.route("/", usageRoutes<AppEnv>({ db: (c) => c.get("services").db() }));
  return admin;
}
