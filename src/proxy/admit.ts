import type { Context } from "hono";
import { modelAllowed } from "../auth";
import { type CacheState, cacheStatus, planCache, withEntry } from "../cache";
import { ownValue, type RouteConfig, type TargetConfig } from "../config";
import type { AppEnv } from "../context";
import { forbidden, notFound } from "../errors";
import { maxOutputTokens, measurePrompt, requestWorstCase, type WorstCaseInput } from "../estimate";
import type { RequestMeter } from "../metering";
import { type SharedStateRead, targetKey } from "../routing";
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

/** A proxied request past the gate, with the prompt estimate made with its reservation. */
export interface Admitted extends Metered {
  /** Prompt tokens as estimated before the call; also the usage of a prompt the upstream never reports. */
  promptTokens: number;
  /** The response cache's part (null: bypassed); `entry` set means a hit, answered without a call. */
  cache: CacheState | null;
  /** Each candidate's cost at the reservation's estimate (micro-dollars, null: unpriced), by target key. */
  targetCosts: Map<string, number | null>;
}

/**
 * Admits a proxied request: estimates it once (prompt, then the most it may generate), reserves
 * that worst case at the dearest target it may reach (fallbacks and budget downgrades included),
 * and applies the shared routing state (breakers, latencies) read in the same round trip.
 * @example const admitted = await admitRequest(c, timing, request, route, plan.candidates, plan.shared)
 */
export async function admitRequest(
  c: Context<AppEnv>,
  timing: ServerTiming,
  request: ProxyRequest,
  route: RouteConfig,
  targets: TargetConfig[],
  shared: SharedStateRead,
  dispatch?: Dispatch,
): Promise<Admitted> {
  const services = c.get("services");
  const plan = await planCache({
    config: services.config,
    caller: c.get("caller"),
    route,
    routeName: request.body.model,
    endpoint: request.endpoint,
    body: request.body,
    headers: c.req.raw.headers,
    raw: request.output.raw === true,
  });
  // Reserved from the prompt's upper bound; its estimate is the usage if the upstream reports none.
  const measured = measurePrompt(request.body, request.endpoint);
  const estimate: WorstCaseInput = {
    endpoint: request.endpoint,
    body: request.body,
    promptTokens: measured.bound,
    maxOutputTokens: maxOutputTokens(request.endpoint, request.body) ?? route.max_output_tokens,
    targets,
    price: (provider, model, prompt, output) =>
      services.meter.worstCaseMicros(provider, model, prompt, output),
  };
  const worstCase = requestWorstCase(estimate);
  const call: MeteredCall = {
    endpoint: request.endpoint,
    model: request.body.model,
    stream: request.stream,
    estimatedTokens: worstCase.tokens,
    worstCaseMicros: worstCase.micros,
    // A prepaid balance holds the worst case at the caller's billed price (src/billing/billed.ts).
    worstCaseBilledMicros: services.billing.worstCaseMicros(
      c.get("caller"),
      request.body.model,
      estimate,
      worstCase.micros,
    ),
    breakerKeys: shared.keys,
    cacheKey: plan?.policy.read ? plan.key : null,
  };
  const targetCosts = new Map(targets.map((t, i) => [targetKey(t), worstCase.perTarget[i] ?? null]));
  // Speculative admission may send the upstream call now, beside the limits round trip.
  const metered = await admitAndMeter(c, timing, call, dispatch?.(call, targetCosts) ?? undefined);
  const cache = plan && (await withEntry(plan, metered.admission.cached, services.now()));
  c.header("x-sluice-cache", cacheStatus(cache));
  shared.apply(metered.admission.breakerState);
  return { ...metered, promptTokens: measured.estimate, cache, targetCosts };
}

/** What a refused admission calls before its usage row is written: a speculative call's clean-up. */
export type OnRefused = (record: RequestMeter) => Promise<void>;

/** Speculative admission's hook (see Speculation.dispatch): may start the call, returning its refusal's clean-up. */
export type Dispatch = (
  call: MeteredCall,
  targetCosts: ReadonlyMap<string, number | null>,
) => OnRefused | null;

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
  /** The same at the caller's billed price (prepaid balances); absent: worstCaseMicros. */
  worstCaseBilledMicros?: number | null;
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
  onRefused?: OnRefused,
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
      worstCaseBilledMicros: call.worstCaseBilledMicros,
      breakerKeys: call.breakerKeys,
      cacheKey: call.cacheKey,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    }),
  );
  limitsSpan?.end(admission.error?.code ?? null);
  for (const [name, value] of Object.entries(admission.headers)) c.header(name, value);
  if (admission.error) {
    const outcome = { status: admission.error.status, errorCode: admission.error.code };
    // A speculative call already sent is aborted first, so its row names what was dispatched.
    const dispatched = onRefused?.(record);
    settle(c, { record, admission }, dispatched ? dispatched.then(() => outcome) : outcome);
    throw admission.error;
  }
  return { record, admission };
}
