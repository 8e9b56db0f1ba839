import { createApp } from "./app";
import { ConfigError, type GatewayEnv } from "./config";
import { errorResponse, GatewayError } from "./errors";
import { flushSpool } from "./metering";
import { deliverAlerts } from "./observability";
import { createServices, type Services } from "./services";

let cached: { env: GatewayEnv; services: Services; app: ReturnType<typeof createApp> } | undefined;

/** One app per isolate: config is validated and clients are built on the first request only. */
function built(env: GatewayEnv): NonNullable<typeof cached> {
  if (cached?.env !== env) {
    const services = createServices(env);
    cached = { env, services, app: createApp(services) };
  }
  return cached;
}

function appFor(env: GatewayEnv): ReturnType<typeof createApp> {
  return built(env).app;
}

export default {
  fetch(request, env, ctx) {
    try {
      return appFor(env).fetch(request, env, ctx);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // A bad config is the operator's to fix: say which field, on every request, until it is.
      console.error(err.message);
      return errorResponse(
        new GatewayError({ status: 500, type: "server_error", message: err.message, code: "config_error" }),
      );
    }
  },

  /** Cron trigger: moves usage rows spooled while Postgres was down into Postgres; sends queued alerts. */
  async scheduled(_controller, env, ctx) {
    const { services } = built(env);
    ctx.waitUntil(
      deliverAlerts({ ...services, fetcher: (input, init) => fetch(input, init) }).catch(() =>
        services.log("warn", "alert delivery failed; alerts stay queued"),
      ),
    );
    // Postgres' jobs load drizzle here: requests never wait for it while an isolate starts.
    const [db, { reconcileBalances }, { purgeExpiredTurns }] = await Promise.all([
      services.db(),
      import("./billing/reconcile"),
      import("./inbound/responses/store"),
    ]);
    ctx.waitUntil(
      // While Postgres is still down the rows stay spooled for the next run.
      flushSpool(db, services.redis, { log: services.log }).catch(() =>
        services.log("warn", "usage spool flush failed; rows stay spooled"),
      ),
    );
    // Stored Responses API answers past their retention (config `responses.retention_days`).
    ctx.waitUntil(
      purgeExpiredTurns(db, services.now()).catch(() =>
        services.log("warn", "purging expired stored responses failed; the next run retries"),
      ),
    );
    // Tenant state mirrors and prepaid balances: Redis against the Postgres record.
    ctx.waitUntil(
      reconcileBalances(db, services.redis, services.log).catch(() =>
        services.log("warn", "balance reconciliation failed; the next run retries"),
      ),
    );
  },
} satisfies ExportedHandler<GatewayEnv>;
