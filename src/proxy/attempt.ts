import type { Context } from "hono";
import { ownValue, type ProviderConfig, type RouteConfig, type TargetConfig } from "../config";
import type { AppEnv } from "../context";
import { adapterFor, type Target } from "../providers";
import { withPromptCaching } from "../providers/anthropic";
import {
  type AttemptOutcome,
  type FallbackOptions,
  type FallbackResult,
  runWithFallback,
  targetKey,
} from "../routing";
import type { OutputFormat } from "./output";
import { createRemoteImageFetcher } from "./remote-image";
import type { ProxyRequest } from "./request";
import { callUpstream, type UpstreamAnswer, type UpstreamFailure } from "./upstream";

/** The answer of the target that served the request (with its output shape), or the failure to report. */
export type Attempted = FallbackResult<AnsweredValue, UpstreamFailure>;

/**
 * Tries the route's targets in order (breakers, retries, backoff, fallback) until one answers or
 * a failure is the caller's own. The result names the target of the last attempt. Once `signal`
 * aborts (a speculative call the limits refused), every upstream fetch is aborted and nothing
 * more is tried: no retry, no fallback, and no breaker learns from it.
 * @example const attempted = await attemptTargets(c, request, route, orderTargets(route))
 */
export function attemptTargets(
  c: Context<AppEnv>,
  request: ProxyRequest,
  route: RouteConfig,
  targets: TargetConfig[],
  signal?: AbortSignal,
): Promise<Attempted> {
  const services = c.get("services");
  const { config } = services;
  const fetcher = signal ? abortable(services.fetcher, signal) : services.fetcher;
  const context = {
    requestedModel: request.body.model,
    id: `chatcmpl-${c.get("requestId")}`,
    created: Math.floor(services.now() / 1000),
  };
  const fetchImage = createRemoteImageFetcher(fetcher);
  const payer = { caller: c.get("caller"), requestedModel: request.body.model };
  const attempt = async (target: TargetConfig): Promise<AttemptOutcome<AnsweredValue, UpstreamFailure>> => {
    if (signal?.aborted) return abandoned();
    const span = c.get("trace")?.attempt(target);
    const resolved = resolveTarget(services.env, config.providers, target);
    const provider = withTraceparent(resolved, span?.traceparent);
    const call = callFor(request, route, provider);
    const outcome = await callUpstream({
      adapter: call.adapter,
      endpoint: request.endpoint,
      body: call.body,
      target: provider,
      stream: request.stream,
      context,
      firstByteTimeoutMs: route.first_byte_timeout_ms,
      idleTimeoutMs: route.idle_timeout_ms,
      maxUpstreamBytes: config.max_upstream_bytes,
      format: call.output.stream((usage) =>
        services.meter.costUsd(provider.provider, provider.model, usage, payer),
      ),
      now: services.now,
      clientGone: c.req.raw.signal,
      fetcher,
      fetchImage,
    });
    span?.end(provider.kind, outcome.ok ? null : outcome.failure.status);
    if (!outcome.ok && signal?.aborted) return abandoned();
    // `fastest` routes learn from every answer (time to first byte; for JSON, the whole answer).
    if (outcome.ok && route.strategy === "fastest")
      services.latency.record(targetKey(target), outcome.value.ttfbMs);
    return outcome.ok ? { ...outcome, value: { ...outcome.value, output: call.output } } : outcome;
  };
  return runWithFallback(targets, attempt, fallbackOptions(c, route));
}

type AnsweredValue = UpstreamAnswer & { output: OutputFormat };

/** A fetch whose calls also abort with `signal`. */
function abortable(fetcher: typeof fetch, signal: AbortSignal): typeof fetch {
  return (input, init) =>
    fetcher(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}

/** An attempt given up because its admission was refused: the caller's refusal is the answer, never this. */
function abandoned(): AttemptOutcome<never, UpstreamFailure> {
  const error = {
    message: "The request was refused by its limits.",
    type: "rate_limit_error",
    param: null,
    code: "abandoned",
  };
  return { ok: false, kind: "caller", retryAfterMs: null, failure: { status: 429, error: { error } } };
}

/** The target with the attempt's W3C `traceparent` among its headers, when the request is traced. */
function withTraceparent(target: Target, traceparent: string | null | undefined): Target {
  return traceparent ? { ...target, headers: { ...target.headers, traceparent } } : target;
}

/**
 * How a request goes to a target of this kind: natively when the caller spoke its format,
 * translated otherwise (refused, so routing moves on, when the body has no translation; with
 * the route's cache breakpoints when it opted in and the target is Claude).
 */
function callFor(request: ProxyRequest, route: RouteConfig, target: Target) {
  const { kind } = target;
  const native = request.native;
  if (native?.kind === kind && (native.accepts?.(target.provider) ?? true)) {
    return { adapter: native.adapter, body: native.body, output: native.output };
  }
  const untranslatable = native?.untranslatable;
  let adapter = adapterFor(kind);
  if (untranslatable) {
    adapter = {
      ...adapter,
      buildRequest: () => {
        throw untranslatable;
      },
    };
  } else if (kind === "anthropic" && route.prompt_caching) {
    adapter = withPromptCaching(adapter, route.prompt_caching.ttl);
  }
  return { adapter, body: request.body, output: request.output };
}

/** Retries per the route; breakers skip and learn from targets; provider credential trouble is logged. */
function fallbackOptions(c: Context<AppEnv>, route: RouteConfig): FallbackOptions {
  const services = c.get("services");
  return {
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
  };
}

/**
 * A route target with its provider's connection details (base URL, key from env, headers).
 * @example const target = resolveTarget(env, config.providers, route.targets[0])
 */
export function resolveTarget(
  env: Record<string, unknown>,
  providers: Record<string, ProviderConfig>,
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
