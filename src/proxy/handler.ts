import type { Context } from "hono";
import type { AppEnv } from "../app";
import { modelAllowed } from "../auth";
import type { RouteConfig, TargetConfig } from "../config";
import { errorResponse, forbidden, GatewayError, notFound } from "../errors";
import type { Admission } from "../limits/types";
import { adapterFor, type Endpoint, type Target } from "../providers";
import { breakerRedisKey, orderTargets, runWithFallback, targetKey } from "../routing";
import { SSE_HEADERS } from "../streaming/sse";
import { callUpstream, type UpstreamAnswer, type UpstreamFailure } from "./upstream";
import { ServerTiming } from "./timing";

export interface ProxyRequest {
  endpoint: Endpoint;
  /** Validated OpenAI body; unknown fields kept. */
  body: Record<string, unknown> & { model: string };
  stream: boolean;
  /** The caller asked for the usage chunk (`stream_options.include_usage`). */
  includeUsage: boolean;
  /** Prompt tokens as estimated before the call (reservations, and usage the upstream never reports). */
  estimatedPromptTokens: number;
  maxOutputTokens: number | null;
}

/**
 * The whole life of a proxied request after parsing: route, admit (one Redis round trip), try
 * targets with fallback, answer (JSON or stream), then settle and meter in waitUntil.
 */
export async function proxy(c: Context<AppEnv>, request: ProxyRequest, timing: ServerTiming): Promise<Response> {
  const services = c.get("services");
  const caller = c.get("caller");
  const requestId = c.get("requestId");
  const { config } = services;
  const model = request.body.model;

  const route = config.routes[model];
  if (!route) throw notFound(`The model '${model}' does not exist or you do not have access to it.`, "model_not_found");
  if (!modelAllowed([...caller.models], model)) {
    throw forbidden(`This key is not allowed to use the model '${model}'.`, "model_not_allowed");
  }

  const targets = orderTargets(route, services.random);
  const firstTarget = targets[0] as TargetConfig;
  const maxOutput = request.maxOutputTokens ?? route.max_output_tokens;
  const record = services.meter.begin({
    requestId,
    caller,
    endpoint: request.endpoint,
    requestedModel: model,
    stream: request.stream,
    tags: c.get("tags"),
    startedAt: c.get("startedAt"),
  });

  const admission = await timing.measure("limits", () =>
    services.gate.admit({
      caller: { ...caller, expiresAt: caller.expiresAt === null ? null : caller.expiresAt * 1000 },
      requestId,
      estimatedTokens: request.estimatedPromptTokens + maxOutput,
      worstCaseMicros: services.meter.worstCaseMicros(
        firstTarget.provider,
        firstTarget.model,
        request.estimatedPromptTokens,
        maxOutput,
      ),
      breakerKeys: targets.map((t) => breakerRedisKey(targetKey(t))),
    }),
  );
  targets.forEach((t, i) => {
    services.breakers.applyShared(targetKey(t), admission.breakerState[i] ?? null);
  });
  for (const [name, value] of Object.entries(admission.headers)) c.header(name, value);
  if (admission.error) {
    c.executionCtx.waitUntil(finish(admission, record.finish({ status: admission.error.status, errorCode: admission.error.code })));
    throw admission.error;
  }

  const routing = timing.start("routing");
  const context = { requestedModel: model, id: `chatcmpl-${requestId}`, created: Math.floor(services.now() / 1000) };
  let chosen: { target: TargetConfig; provider: Target } | null = null;
  const result = await runWithFallback<UpstreamAnswer | UpstreamFailure>(
    targets,
    (target) => {
      const provider = resolveTarget(services.env, config.providers, target);
      chosen = { target, provider };
      return callUpstream({
        adapter: adapterFor(provider.kind),
        endpoint: request.endpoint,
        body: request.body,
        target: provider,
        stream: request.stream,
        context,
        firstByteTimeoutMs: route.first_byte_timeout_ms,
        idleTimeoutMs: route.idle_timeout_ms,
        present: (payload, usage) =>
          presentStreamPayload(payload, request.includeUsage, () =>
            usage ? services.meter.costUsd(provider.provider, provider.model, usage) : null,
          ),
        now: services.now,
        fetcher: services.fetcher,
      });
    },
    {
      retries: route.retries,
      isAvailable: (t) => services.breakers.tryAcquire(targetKey(t)),
      onOutcome: (t, ok, kind) => {
        // A caller's own 4xx says nothing about the target's health.
        if (kind === "caller") return;
        const transition = services.breakers.record(targetKey(t), ok);
        if (transition) c.executionCtx.waitUntil(services.publishBreaker(targetKey(t), transition));
        if (kind === "provider_auth") services.log("warn", "provider rejected its credentials", { target: targetKey(t) });
      },
      random: services.random,
      sleep: services.sleep,
    },
  );
  routing.end();

  const picked = chosen as { target: TargetConfig; provider: Target } | null;
  c.header("x-sluice-attempts", String(result.attempts));
  if (picked) {
    c.header("x-sluice-provider", picked.provider.provider);
    c.header("x-sluice-model", picked.provider.model);
    record.setTarget(picked.provider.provider, picked.provider.model, result.attempts);
  }

  const outcome = result.result;
  if (!outcome || !outcome.ok || !picked) {
    const failure = outcome && !outcome.ok ? (outcome.failure as UpstreamFailure) : noTargetFailure(route);
    c.executionCtx.waitUntil(
      finish(admission, record.finish({ status: failure.status, errorCode: failure.error.error.code })),
    );
    timing.endOverhead(null);
    return errorResponse(new GatewayError(failure.status, failure.error.error.type as never, failure.error.error.message, failure.error.error.code, failure.error.error.param), headersOf(c));
  }

  const answer = outcome.value as UpstreamAnswer;
  timing.endOverhead(answer.ttfbMs);
  c.header("server-timing", timing.header());
  if (answer.kind === "json") {
    const usage = answer.usage ?? record.estimate(request, "");
    const settled = record.finish({ status: 200, errorCode: null, usage, usageSource: answer.usage ? "provider" : "estimated", ttfbMs: answer.ttfbMs });
    const cost = services.meter.costUsd(picked.provider.provider, picked.provider.model, usage);
    if (answer.body.usage && typeof answer.body.usage === "object") (answer.body.usage as Record<string, unknown>).cost = cost;
    if (cost !== null) c.header("x-sluice-cost-usd", String(cost));
    c.executionCtx.waitUntil(finish(admission, settled));
    return c.json(answer.body, 200);
  }

  c.executionCtx.waitUntil(
    answer.ended.then((end) => {
      const reported = answer.usage();
      const usage = reported ?? record.estimate(request, answer.generatedText());
      const status = end.errorCode ? 502 : end.cancelled ? 499 : 200;
      return finish(
        admission,
        record.finish({
          status,
          errorCode: end.errorCode ?? (end.cancelled ? "client_closed_request" : null),
          usage,
          usageSource: reported ? "provider" : "estimated",
          ttfbMs: answer.ttfbMs,
        }),
      );
    }),
  );
  return new Response(answer.body, { status: 200, headers: { ...headersOf(c), ...SSE_HEADERS } });
}

/** Releases reservations to the real spend, then writes the usage row; both off the hot path. */
async function finish(admission: Admission, settled: { tokens: number; costMicros: number; write: () => Promise<void> }) {
  await Promise.all([admission.settle({ tokens: settled.tokens, costMicros: settled.costMicros }), settled.write()]);
}

function headersOf(c: Context<AppEnv>): Record<string, string> {
  const headers: Record<string, string> = {};
  c.res.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/**
 * The usage-only chunk is always requested upstream; the caller sees it (with its cost) only when
 * they asked for it. Every other payload passes through untouched.
 */
export function presentStreamPayload(payload: string, includeUsage: boolean, cost: () => number | null): string | null {
  if (!payload.includes('"usage":{') && !payload.includes('"usage": {')) return payload;
  const chunk = JSON.parse(payload) as { choices?: unknown[]; usage?: Record<string, unknown> };
  if (!chunk.usage || (chunk.choices && chunk.choices.length > 0)) return payload;
  if (!includeUsage) return null;
  chunk.usage.cost = cost();
  return JSON.stringify(chunk);
}

function resolveTarget(env: Record<string, unknown>, providers: Record<string, import("../config").ProviderConfig>, target: TargetConfig): Target {
  const provider = providers[target.provider];
  if (!provider) throw new Error(`route target names unknown provider ${target.provider}`);
  const secret = provider.api_key_secret ? env[provider.api_key_secret] : undefined;
  return {
    provider: target.provider,
    kind: provider.kind,
    baseUrl: provider.base_url,
    model: target.model,
    apiKey: typeof secret === "string" ? secret : undefined,
    headers: provider.headers,
  };
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
