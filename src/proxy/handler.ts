import type { Context } from "hono";
import type { AppEnv } from "../app";
import { modelAllowed } from "../auth";
import { ownValue, type RouteConfig, type TargetConfig } from "../config";
import { forbidden, GatewayError, notFound } from "../errors";
import type { Admission } from "../limits/types";
import { requestWorstCase } from "../limits/worst-case";
import { callerTags } from "../metering";
import { adapterFor, type Endpoint, type Target, type TokenUsage } from "../providers";
import { encodeEmbeddingsBase64 } from "../providers/common/embeddings";
import { breakerRedisKey, orderTargets, runWithFallback, targetKey } from "../routing";
import type { RequestMeter } from "../services";
import { SSE_HEADERS } from "../streaming/sse";
import type { OutputFormat } from "./output";
import { createRemoteImageFetcher } from "./remote-image";
import type { ServerTiming } from "./timing";
import { callUpstream, type UpstreamAnswer, type UpstreamFailure } from "./upstream";

export interface ProxyRequest {
  endpoint: Endpoint;
  /** Validated OpenAI body; unknown fields kept. */
  body: Record<string, unknown> & { model: string };
  stream: boolean;
  /** The shape of the answer: OpenAI's, or Anthropic's on /v1/messages. */
  output: OutputFormat;
  /** Prompt tokens as estimated before the call (reservations, and usage the upstream never reports). */
  estimatedPromptTokens: number;
  maxOutputTokens: number | null;
}

/**
 * The whole life of a proxied request after parsing: route, admit (one Redis round trip), try
 * targets with fallback, answer (JSON or stream), then settle and meter in waitUntil.
 */
export async function proxy(
  c: Context<AppEnv>,
  request: ProxyRequest,
  timing: ServerTiming,
): Promise<Response> {
  const services = c.get("services");
  const requestId = c.get("requestId");
  const { config } = services;
  const model = request.body.model;
  // Attribution for the usage row; past its bounds the request is refused before anything is spent.
  c.set("tags", callerTags(c.req.raw.headers, request.body));

  const route = allowedRoute(c, model);
  const targets = orderTargets(route, services.random);
  const worstCase = requestWorstCase({
    endpoint: request.endpoint,
    body: request.body,
    promptTokens: request.estimatedPromptTokens,
    maxOutputTokens: request.maxOutputTokens ?? route.max_output_tokens,
    targets: route.targets,
    price: (provider, target, prompt, output) =>
      services.meter.worstCaseMicros(provider, target, prompt, output),
  });
  const { record, admission } = await admitAndMeter(c, timing, {
    endpoint: request.endpoint,
    model,
    stream: request.stream,
    estimatedTokens: worstCase.tokens,
    worstCaseMicros: worstCase.micros,
    breakerKeys: targets.map((t) => breakerRedisKey(targetKey(t))),
  });
  targets.forEach((t, i) => {
    services.breakers.applyShared(targetKey(t), admission.breakerState[i] ?? null);
  });

  const routing = timing.start("routing");
  const context = {
    requestedModel: model,
    id: `chatcmpl-${requestId}`,
    created: Math.floor(services.now() / 1000),
  };
  let chosen: { target: TargetConfig; provider: Target } | null = null;
  const fetchImage = createRemoteImageFetcher(services.fetcher);
  // A target's refusal of a feature is the answer only when no target got further.
  let lastServedFailure: UpstreamFailure | null = null;
  const result = await runWithFallback<UpstreamAnswer | UpstreamFailure>(
    targets,
    async (target) => {
      const provider = resolveTarget(services.env, config.providers, target);
      chosen = { target, provider };
      const outcome = await callUpstream({
        adapter: adapterFor(provider.kind),
        endpoint: request.endpoint,
        body: request.body,
        target: provider,
        stream: request.stream,
        context,
        firstByteTimeoutMs: route.first_byte_timeout_ms,
        idleTimeoutMs: route.idle_timeout_ms,
        maxUpstreamBytes: config.max_upstream_bytes,
        format: request.output.stream((usage) =>
          services.meter.costUsd(provider.provider, provider.model, usage),
        ),
        now: services.now,
        fetcher: services.fetcher,
        fetchImage,
      });
      if (!outcome.ok && outcome.kind !== "unsupported")
        lastServedFailure = outcome.failure as UpstreamFailure;
      return outcome;
    },
    {
      retries: route.retries,
      isAvailable: (t) => services.breakers.tryAcquire(targetKey(t)),
      onOutcome: (t, ok, kind) => {
        // A caller's own 4xx, or a feature the target lacks, says nothing about its health.
        if (kind === "caller" || kind === "unsupported") return;
        const transition = services.breakers.record(targetKey(t), ok);
        if (transition) c.executionCtx.waitUntil(services.publishBreaker(targetKey(t), transition));
        if (kind === "provider_auth")
          services.log("warn", "provider rejected its credentials", { target: targetKey(t) });
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
  if (!outcome?.ok || !picked) {
    const failure =
      outcome && !outcome.ok
        ? ((lastServedFailure as UpstreamFailure | null) ?? (outcome.failure as UpstreamFailure))
        : noTargetFailure(route);
    c.executionCtx.waitUntil(
      finish(admission, record.finish({ status: failure.status, errorCode: failure.error.error.code })),
    );
    timing.endOverhead(null);
    const { type, message, code, param } = failure.error.error;
    throw new GatewayError(failure.status, type, message, code, param);
  }

  const answer = outcome.value as UpstreamAnswer;
  timing.endOverhead(answer.ttfbMs);
  c.header("server-timing", timing.header());
  if (answer.kind === "json") {
    const usage = answer.usage ?? record.estimate(request, "");
    if (request.endpoint === "embeddings") answer.body = embeddingsAnswer(answer.body, request.body, usage);
    const settled = record.finish({
      status: 200,
      errorCode: null,
      usage,
      usageSource: answer.usage ? "provider" : "estimated",
      ttfbMs: answer.ttfbMs,
    });
    const cost = services.meter.costUsd(picked.provider.provider, picked.provider.model, usage);
    if (answer.body.usage && typeof answer.body.usage === "object")
      (answer.body.usage as Record<string, unknown>).cost = cost;
    if (cost !== null) c.header("x-sluice-cost-usd", String(cost));
    c.executionCtx.waitUntil(finish(admission, settled));
    return c.json(request.output.json(answer.body), 200);
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
  for (const [name, value] of Object.entries(SSE_HEADERS)) c.header(name, value);
  return c.body(answer.body, 200);
}

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
}

/**
 * Starts the call's usage record and admits it through the limits gate (the one Redis round
 * trip: revocation, rates, budgets, concurrency), setting the rate-limit headers. A refusal is
 * metered and thrown; otherwise the caller settles with `finish(admission, record.finish(...))`.
 * @example const { record, admission } = await admitAndMeter(c, timing, { endpoint: "count_tokens", ...call })
 */
export async function admitAndMeter(
  c: Context<AppEnv>,
  timing: ServerTiming,
  call: MeteredCall,
): Promise<{ record: RequestMeter; admission: Admission }> {
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

  const admission = await timing.measure("limits", () =>
    services.gate.admit({
      caller: { ...caller, expiresAt: caller.expiresAt === null ? null : caller.expiresAt * 1000 },
      requestId,
      estimatedTokens: call.estimatedTokens,
      worstCaseMicros: call.worstCaseMicros,
      breakerKeys: call.breakerKeys,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    }),
  );
  for (const [name, value] of Object.entries(admission.headers)) c.header(name, value);
  if (admission.error) {
    c.executionCtx.waitUntil(
      finish(admission, record.finish({ status: admission.error.status, errorCode: admission.error.code })),
    );
    throw admission.error;
  }
  return { record, admission };
}

/**
 * Embeddings as the caller asked for them: base64 when requested (some adapters, Gemini's
 * included, only get number arrays), and a `usage` object even when the upstream reported none.
 */
function embeddingsAnswer(
  body: Record<string, unknown>,
  requestBody: Record<string, unknown>,
  usage: TokenUsage,
): Record<string, unknown> {
  const shaped = requestBody.encoding_format === "base64" ? encodeEmbeddingsBase64(body) : body;
  shaped.usage ??= { prompt_tokens: usage.promptTokens, total_tokens: usage.promptTokens };
  return shaped;
}

/** Releases reservations to the real spend, then writes the usage row; both off the hot path. */
export async function finish(
  admission: Admission,
  settled: { tokens: number; costMicros: number; write: () => Promise<void> },
) {
  await Promise.all([
    admission.settle({ tokens: settled.tokens, costMicros: settled.costMicros }),
    settled.write(),
  ]);
}

function resolveTarget(
  env: Record<string, unknown>,
  providers: Record<string, import("../config").ProviderConfig>,
  target: TargetConfig,
): Target {
  const provider = ownValue(providers, target.provider);
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
