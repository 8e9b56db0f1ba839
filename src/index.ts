import { createApp } from "./app";
import { ConfigError, type GatewayEnv } from "./config";
import { errorResponse, GatewayError } from "./errors";
import { createServices } from "./services";

let cached: { env: GatewayEnv; app: ReturnType<typeof createApp> } | undefined;

/** One app per isolate: config is validated and clients are built on the first request only. */
function appFor(env: GatewayEnv): ReturnType<typeof createApp> {
  if (cached?.env !== env) cached = { env, app: createApp(createServices(env)) };
  return cached.app;
}

export default {
  fetch(request, env, ctx) {
    try {
      return appFor(env).fetch(request, env, ctx);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // A bad config is the operator's to fix: say which field, on every request, until it is.
      console.error(err.message);
      return errorResponse(new GatewayError(500, "server_error", err.message, "config_error"));
    }
  },
} satisfies ExportedHandler<GatewayEnv>;
