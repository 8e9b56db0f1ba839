import type { Context } from "hono";
import { ownValue, type ProviderConfig, type RouteConfig, type TargetConfig } from "../config";
import type { AppEnv } from "../context";
import { adapterFor, type Target } from "../providers";
import { type FallbackOptions, type FallbackResult, runWithFallback, targetKey } from "../routing";
import { createRemoteImageFetcher } from "./remote-image";
import type { ProxyRequest } from "./request";
import { callUpstream, type UpstreamAnswer, type UpstreamFailure } from "./upstream";

/** The answer of the target that served the request, or the failure to report. */
export type Attempted = FallbackResult<UpstreamAnswer, UpstreamFailure>;

/**
 * Tries the route's targets in order (breakers, retries, backoff, fallback) until one answers or
 * a failure is the caller's own. The result names the target of the last attempt.
 * @example const attempted = await attemptTargets(c, request, route, orderTargets(route))
 */
export function attemptTargets(
  c: Context<AppEnv>,
  request: ProxyRequest,
  route: RouteConfig,
  targets: TargetConfig[],
): Promise<Attempted> {
  const services = c.get("services");
  const { config } = services;
  const context = {
    requestedModel: request.body.model,
    id: `chatcmpl-${c.get("requestId")}`,
    created: Math.floor(services.now() / 1000),
  };
  const fetchImage = createRemoteImageFetcher(services.fetcher);
  const attempt = (target: TargetConfig) => {
    const provider = resolveTarget(services.env, config.providers, target);
    return callUpstream({
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
  };
  return runWithFallback(targets, attempt, fallbackOptions(c, route));
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

/** A route target with its provider's connection details (base URL, key from env, headers). */
function resolveTarget(
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
