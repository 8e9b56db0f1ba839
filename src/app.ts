import { type Context, Hono } from "hono";
import { answerErrors, requestState } from "./app-shell";
import type { AppEnv } from "./context";
import { geminiErrors, geminiKey, geminiRoutes } from "./inbound/gemini";
import { anthropicErrors, messagesRoutes } from "./inbound/messages";
import { responsesRoutes } from "./inbound/responses-api";
import { lazily } from "./lazy";
import { traceRequests } from "./observability/middleware";
import { authenticate } from "./proxy/authenticate";
import { clientRequestId } from "./proxy/client-request-id";
import { openaiRoutes } from "./proxy/routes";
import { requireScope } from "./proxy/scopes";
import type { Services } from "./services";

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
  for (const prefix of ["/v1/*", "/v1beta/*"]) app.use(prefix, state);

  // The admin API and dashboard (and drizzle, their tables) load with the first /admin request:
  // ~10 ms less before an isolate's first answer. That app has the same state and error answers.
  const admin = lazily(() => import("./admin/app").then((module) => module.createAdminApp(services)));
  app.all("/admin/*", async (c) => (await admin()).fetch(c.req.raw, c.env, executionContext(c)));
  mountApis(app);

  answerErrors(app, services);
  return app;
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

/** The request's ExecutionContext, or none (Hono's getter throws when a test's fetch passed none). */
function executionContext(c: Context<AppEnv>): Context<AppEnv>["executionCtx"] | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}
