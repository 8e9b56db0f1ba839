import { Hono } from "hono";
import type { AppEnv } from "../app";
import { requireAdmin } from "./auth";
import { keyRoutes } from "./keys";

/**
 * Everything under /admin: the admin token first, then key management and usage analytics.
 * @example app.route("/admin", adminRoutes())
 */
export function adminRoutes(): Hono<AppEnv> {
  const admin = new Hono<AppEnv>();
  admin.use("*", requireAdmin());
  admin.route("/keys", keyRoutes());
  return admin;
}
