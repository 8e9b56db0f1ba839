import type { KeyIdentity } from "./auth";
import type { GatewayEnv } from "./config";
import type { ErrorShape } from "./errors";
import type { RequestTrace } from "./observability";
import type { ServerTiming } from "./proxy/timing";
import type { Services } from "./services";

/** What a request carries through the middleware: set by `createApp` and the /v1 middleware. */
export interface RequestVariables {
  services: Services;
  /** The gateway's own id for the request (usage row, reservations, response ids); never the caller's. */
  requestId: string;
  /** The caller's x-client-request-id / x-request-id, validated; null when it sent none. */
  clientRequestId: string | null;
  /** Milliseconds since the epoch when the gateway got the request. */
  startedAt: number;
  timing: ServerTiming;
  /** The verified key; set by `authenticate` on /v1 routes. */
  caller: KeyIdentity;
  /** Caller attribution for usage rows (x-sluice-tags, user, metadata). */
  tags: Record<string, string> | null;
  /** The caller's API's error body, set by that API's routes; unset, errors are OpenAI-shaped. */
  errorShape?: ErrorShape;
  /** The request's OpenTelemetry trace, when tracing is configured. */
  trace?: RequestTrace;
}

/**
 * The Hono environment of every route and middleware: the worker's bindings and the request's
 * variables. Its own module so routes need not import the app that mounts them.
 * @example const routes = new Hono<AppEnv>(); routes.get("/x", (c) => c.json({ id: c.get("requestId") }))
 */
export type AppEnv = {
  Bindings: GatewayEnv;
  Variables: RequestVariables;
};
