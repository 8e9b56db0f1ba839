import type { Context } from "hono";
import type { RouteConfig } from "../config";
import type { AppEnv } from "../context";
import type { Target, UpstreamRequest, WireFormat } from "../providers";
import { resolveTarget } from "../proxy/attempt";
import { orderTargets } from "../routing";

/**
 * A provider's own token count, for a route whose first target speaks the caller's format
 * (Anthropic's `count_tokens`, Gemini's `countTokens`), sent the caller's body as it came; null
 * for another kind of target, or when no usable answer came in time (the gateway's estimate
 * then answers).
 * @example const counted = await nativeCount(c, route, "gemini", (t) => geminiCountTokensRequest(original, t))
 */
export async function nativeCount(
  c: Context<AppEnv>,
  route: RouteConfig,
  kind: WireFormat,
  build: (target: Target) => UpstreamRequest,
): Promise<Record<string, unknown> | null> {
  const services = c.get("services");
  const first = orderTargets(route, services.random)[0];
  if (!first) return null;
  const target = resolveTarget(services.env, services.config.providers, first);
  if (target.kind !== kind) return null;
  const request = build(target);
  try {
    const response = await services.fetcher(request.url, {
      ...request.init,
      signal: AbortSignal.timeout(route.first_byte_timeout_ms),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return null;
    }
    const body: unknown = await response.json();
    return body !== null && typeof body === "object" && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
