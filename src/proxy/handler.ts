import type { Context } from "hono";
import { StreamRecorder } from "../cache";
import type { RouteConfig } from "../config";
import type { AppEnv } from "../context";
import { GatewayError } from "../errors";
import { callerTags } from "../metering";
import { orderTargets } from "../routing";
import { type Admitted, admitRequest, allowedRoute } from "./admit";
import { answerCached } from "./answer-cached";
import { answerJson } from "./answer-json";
import { answerStream } from "./answer-stream";
import { type Attempted, attemptTargets } from "./attempt";
import type { ProxyRequest } from "./request";
import { settle } from "./settle";
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
  const targets = orderTargets(route, c.get("services").random);
  const admitted = await admitRequest(c, timing, request, route, targets);
  if (admitted.cache?.entry) {
    timing.endOverhead(null);
    c.header("server-timing", timing.header());
    return answerCached(c, request, admitted, admitted.cache.entry);
  }

  // A streamed miss is recorded as it goes out, so the complete answer can be stored.
  const recorder =
    admitted.cache && request.stream ? new StreamRecorder(admitted.cache.policy.maxEntryBytes * 8) : null;
  const sent = recorder ? { ...request, output: recorder.wrap(request.output) } : request;
  const routing = timing.start("routing");
  const attempted = await attemptTargets(c, sent, route, targets);
  routing.end();
  reportTarget(c, admitted, attempted);
  if (!attempted.ok) refuse(c, timing, admitted, attempted.failure ?? noTargetFailure(route));

  const answer = attempted.value;
  // Native passthrough answers are never stored (only OpenAI-shaped answers are).
  if (admitted.cache && answer.output.raw) c.header("x-sluice-cache", "BYPASS");
  timing.endOverhead(answer.ttfbMs);
  c.header("server-timing", timing.header());
  if (answer.kind === "json") return answerJson(c, request, admitted, answer, attempted.target);
  return answerStream(c, admitted, answer, recorder && { recorder, target: attempted.target });
}

/** Names the target that answered (or failed last) in headers and in the usage row. */
function reportTarget(c: Context<AppEnv>, admitted: Admitted, attempted: Attempted): void {
  c.header("x-sluice-attempts", String(attempted.attempts));
  if (!attempted.target) return;
  const { provider, model } = attempted.target;
  c.header("x-sluice-provider", provider);
  c.header("x-sluice-model", model);
  admitted.record.setTarget(provider, model, attempted.attempts);
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
