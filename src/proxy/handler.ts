import type { Context } from "hono";
import { StreamRecorder } from "../cache";
import type { RouteConfig } from "../config";
import type { AppEnv } from "../context";
import { GatewayError } from "../errors";
import { callerTags } from "../metering";
import { type Admitted, admitRequest, allowedRoute } from "./admit";
import { answerCached } from "./answer-cached";
import { answerJson } from "./answer-json";
import { answerStream } from "./answer-stream";
import { type Attempted, attemptTargets } from "./attempt";
import type { ProxyRequest } from "./request";
import { planRoute, type RoutePlan, type Served, serveRoute } from "./route-plan";
import { settle } from "./settle";
import { type Speculation, speculationFor } from "./speculate";
import type { ServerTiming } from "./timing";
import type { UpstreamFailure } from "./upstream";

/**
 * The life of a proxied request after parsing, step by step: route it, admit it (one Redis round
 * trip), try its targets with fallback, answer (JSON or stream); each answer settles its
 * reservations and usage row in waitUntil.
 * @example return proxy(c, { endpoint: "chat", body, stream: false, output: openaiOutput(false) }, timing)
 */
export async function proxy(
  c: Context<AppEnv>,
  request: ProxyRequest,
  timing: ServerTiming,
): Promise<Response> {
  // Attribution for the usage row; past its bounds the request is refused before anything is spent.
  c.set("tags", callerTags(c.req.raw.headers, request.body));
  const route = allowedRoute(c, request.body.model);
  const plan = planRoute(c, request.body.model, route);
  const speculation = speculationFor(c, timing, request, route, plan);
  const admission = await admitRequest(
    c,
    timing,
    request,
    route,
    plan.candidates,
    plan.shared,
    speculation?.dispatch,
  ).catch((err: unknown) => {
    // Refused: already abandoned before its row was written; anything else must not leave the call running.
    if (speculation) c.executionCtx.waitUntil(speculation.abandon());
    throw err;
  });
  if (admission.cache?.entry) {
    timing.endOverhead(null);
    c.header("server-timing", timing.header());
    return answerCached(c, request, admission, admission.cache.entry);
  }
  const { admitted, served, recorder, attempted } = await attemptAdmitted(
    c,
    timing,
    request,
    plan,
    admission,
    speculation,
  );
  reportTarget(c, admitted, attempted, served.downgradedFrom);
  if (!attempted.ok) refuse(c, timing, admitted, attempted.failure ?? noTargetFailure(served.route));

  const answer = attempted.value;
  // Native passthrough answers are never stored (only OpenAI-shaped answers are).
  if (admitted.cache && answer.output.raw) c.header("x-sluice-cache", "BYPASS");
  timing.endOverhead(answer.ttfbMs);
  c.header("server-timing", timing.header());
  if (answer.kind === "json") return answerJson(c, request, admitted, answer, attempted.target);
  return answerStream(c, admitted, answer, recorder && { recorder, target: attempted.target });
}

/** What answered an admitted request (or failed), over which route and targets. */
interface Run {
  admitted: Admitted;
  served: Omit<Served, "admitted">;
  recorder: StreamRecorder | null;
  attempted: Attempted;
}

/**
 * Tries an admitted request's targets: the speculative attempt already under way, if one was
 * dispatched (its route is the one asked for: speculation never runs where a budget may
 * downgrade or a cache answer), else the route the budget leaves the caller (`downgrade_at`),
 * its targets in its strategy's order, recording a streamed cache miss as it goes out.
 */
async function attemptAdmitted(
  c: Context<AppEnv>,
  timing: ServerTiming,
  request: ProxyRequest,
  plan: RoutePlan,
  admission: Admitted,
  speculation: Speculation | null,
): Promise<Run> {
  const early = await speculation?.attempted();
  if (early && speculation?.dispatched) {
    const { route, targets } = speculation.dispatched;
    return {
      admitted: admission,
      served: { route, targets, downgradedFrom: null },
      recorder: null,
      attempted: early,
    };
  }
  const { admitted, ...served } = serveRoute(c, plan, admission);
  const recorder =
    admitted.cache && request.stream ? new StreamRecorder(admitted.cache.policy.maxEntryBytes * 8) : null;
  const sent = recorder ? { ...request, output: recorder.wrap(request.output) } : request;
  const routing = timing.start("routing");
  const attempted = await attemptTargets(c, sent, served.route, served.targets);
  routing.end();
  return { admitted, served, recorder, attempted };
}

/** Names the target that answered (or failed last), and any downgrade, in headers and the usage row. */
function reportTarget(
  c: Context<AppEnv>,
  admitted: Admitted,
  attempted: Attempted,
  downgradedFrom: string | null,
): void {
  c.header("x-sluice-attempts", String(attempted.attempts));
  if (!attempted.target) return;
  const { provider, model } = attempted.target;
  c.header("x-sluice-provider", provider);
  c.header("x-sluice-model", model);
  admitted.record.setTarget(provider, model, attempted.attempts, downgradedFrom);
}

/** No target answered: the failure is metered, then becomes the caller's error. */
function refuse(
  c: Context<AppEnv>,
  timing: ServerTiming,
  admitted: Admitted,
  failure: UpstreamFailure,
): never {
  settle(c, admitted, { status: failure.status, errorCode: failure.error.error.code });
  timing.endOverhead(null);
  const { type, message, code, param } = failure.error.error;
  throw new GatewayError({ status: failure.status, type, message, code, param });
}

function noTargetFailure(route: RouteConfig): UpstreamFailure {
  return {
    status: 503,
    error: {
      error: {
        message: `Every provider for this model is temporarily unavailable (${route.targets.length} skipped by the circuit breaker).`,
        type: "server_error",
        param: null,
        code: "all_targets_unavailable",
      },
    },
  };
}
