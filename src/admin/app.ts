import { Hono } from "hono";
import { answerErrors, requestState } from "../app-shell";
import type { AppEnv } from "../context";
import type { Services } from "../services";
import { adminRoutes } from "./index";

/**
 * The admin API and dashboard as an app of their own, which the gateway's app loads on the first
 * /admin request (a dynamic import): the same per-request state and error answers as the APIs.
 * @example const admin = createAdminApp(services); await admin.fetch(request, env, ctx)
 */
export function createAdminApp(services: Services): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("/admin/*", requestState(services));
  app.route("/admin", adminRoutes());
  answerErrors(app, services);
  return app;
}
