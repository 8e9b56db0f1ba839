import type { Context } from "hono";
import { modelAllowed } from "../auth";
import { type CacheState, cacheStatus, planCache, withEntry } from "../cache";
import { ownValue, type RouteConfig, type TargetConfig } from "../config";
import type { AppEnv } from "../context";
import { forbidden, notFound } from "../errors";
import { estimatePromptTokens, maxOutputTokens, requestWorstCase } from "../estimate";
import { breakerRedisKey, targetKey } from "../routing";
import type { ProxyRequest } from "./request";
import { type Metered, settle } from "./settle";
import type { ServerTiming } from "./timing";

/**
 * The route of a model the caller may use: 404 `model_not_found` for a model the config does not
 * route (own names only, so `constructor` is as unknown as any other name), 403
 * `model_not_allowed` for one the key's model patterns exclude.
 * @example const route = allowedRoute(c, body.model)
 */
export function allowedRoute(c: Context<AppEnv>, model: string): RouteConfig {
  const route = ownValue(c.get("services").config.routes, model);
  if (!route)
    throw notFound(`The model '${model}' does not exist or you do not have access to it.`, "model_not_found");
  if (!modelAllowed([...c.get("caller").models], model)) {
    throw forbidden(`This key is not allowed to use the model '${model}'.`, "model_not_allowed");
  }
  return route;
}

/** A proxied request past the gate, with the prompt estimate its reservation was made from. */
export interface Admitted extends Metered {
  /** Prompt tokens as estimated before the call; also the usage of a prompt the upstream never reports. */
  promptTokens: number;
  /** The response cache's part (null: bypassed); `entry` set means a hit, answered without a call. */
  cache: CacheState | null;
}

/**
 * Admits a proxied request: estimates it once (prompt, then the most it may generate), reserves
 * that worst case at the dearest target its route may fall back to, and applies the shared breaker
 * state read in the same round trip.
 * @example const admitted = await admitRequest(c, timing, request, route, orderTargets(route))
 */
export async function admitRequest(
  c: Context<AppEnv>,
  timing: ServerTiming,
  request: ProxyRequest,
  route: RouteConfig,
  targets: TargetConfig[],
): Promise<Admitted> {
  const services = c.get("services");
  const plan = await planCache({
    route,
    routeName: request.body.model,
    tenant: c.get("caller").tenant,
    endpoint: request.endpoint,
    body: request.body,
    headers: c.req.raw.headers,
    raw: request.output.raw === true,
  });
  const promptTokens = estimatePromptTokens(request.body);
  const worstCase = requestWorstCase({
    endpoint: request.endpoint,
    body: request.body,
    promptTokens,
    maxOutputTokens: maxOutputTokens(request.endpoint, request.body) ?? route.max_output_tokens,
    targets: route.targets,
    price: (provider, model, prompt, output) =>
      services.meter.worstCaseMicros(provider, model, prompt, output),
  });
  const metered = await admitAndMeter(c, timing, {
    endpoint: request.endpoint,
    model: request.body.model,
    stream: request.stream,
    estimatedTokens: worstCase.tokens,
    worstCaseMicros: worstCase.micros,
    breakerKeys: targets.map((t) => breakerRedisKey(targetKey(t))),
    cacheKey: plan?.policy.read ? plan.key : null,
  });
  const cache = plan && (await withEntry(plan, metered.admission.cached));
  c.header("x-sluice-cache", cacheStatus(cache));
  targets.forEach((t, i) => {
    services.breakers.applyShared(targetKey(t), metered.admission.breakerState[i] ?? null);
  });
  return { ...metered, promptTokens, cache };
}

/** One call as the limits gate and the usage row see it. */
export interface MeteredCall {
  /** The usage row's endpoint: an adapter endpoint, or the gateway's own (`count_tokens`). */
  endpoint: string;
  model: string;
  stream: boolean;
  /** Tokens to reserve against tpm, settled to the real use afterwards. */
  estimatedTokens: number;
  /** Worst-case cost in micro-dollars; null when unpriced. */
  worstCaseMicros: number | null;
  /** Shared breaker state to read in the same round trip. */
  breakerKeys: string[];
  /** A response-cache entry to read in the same round trip. */
  cacheKey?: string | null;
}

/**
 * Starts the call's usage record and admits it through the limits gate (the one Redis round
 * trip: revocation, rates, budgets, concurrency), setting the rate-limit headers. A refusal is
 * metered and thrown; otherwise the caller ends it with `settle(c, metered, outcome)`.
 * @example const metered = await admitAndMeter(c, timing, { endpoint: "count_tokens", ...call })
 */
export async function admitAndMeter(
  c: Context<AppEnv>,
  timing: ServerTiming,
  call: MeteredCall,
): Promise<Metered> {
  const services = c.get("services");
  const caller = c.get("caller");
  const requestId = c.get("requestId");
  const record = services.meter.begin({
    requestId,
    clientRequestId: c.get("clientRequestId"),
    caller,
    endpoint: call.endpoint,
    requestedModel: call.model,
    stream: call.stream,
    tags: c.get("tags"),
    startedAt: c.get("startedAt"),
  });
  const limitsSpan = c.get("trace")?.limits();
  const admission = await timing.measure("limits", () =>
    services.gate.admit({
      caller: { ...caller, expiresAt: caller.expiresAt === null ? null : caller.expiresAt * 1000 },
      requestId,
      estimatedTokens: call.estimatedTokens,
      worstCaseMicros: call.worstCaseMicros,
      breakerKeys: call.breakerKeys,
      cacheKey: call.cacheKey,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    }),
  );
  limitsSpan?.end(admission.error?.code ?? null);
  for (const [name, value] of Object.entries(admission.headers)) c.header(name, value);
  if (admission.error) {
    settle(c, { record, admission }, { status: admission.error.status, errorCode: admission.error.code });
    throw admission.error;
  }
  return { record, admission };
}
