import { errorReader } from "../common/error-body";
import { UnsupportedFeatureError } from "../common/errors";
import type { ProviderAdapter, Target, UpstreamRequest } from "../types";
import { parseAnthropicErrorBody } from "./error";
import { anthropicHeaders } from "./headers";
import { createAnthropicStreamTranslator } from "./stream";
import { anthropicUsage } from "./vocabulary";

/**
 * The caller's headers an Anthropic-native request carries upstream: the API version and the
 * beta features it opts into (prompt-caching TTLs, interleaved thinking, files, MCP...). Nothing
 * else: the caller's own `x-api-key` / `authorization` is a sluice key, never sent on.
 */
export const FORWARDED_ANTHROPIC_HEADERS = ["anthropic-version", "anthropic-beta"] as const;

/** Longest forwarded header value: a beta list is a few hundred characters. */
const MAX_FORWARDED_HEADER_CHARS = 2048;

/**
 * An adapter that carries an Anthropic Messages body to an Anthropic target as the caller sent
 * it, `model` rewritten to the target's (every other field kept: cache_control with its ttl,
 * thinking signatures, top_k, server tools, mcp_servers...). The answer comes back as Anthropic
 * wrote it; the stream translator only reads usage and errors (the relay runs raw).
 * @example callUpstream({ adapter: anthropicPassthrough(c.req.raw.headers), body: original, ... })
 */
export function anthropicPassthrough(callerHeaders: Headers): ProviderAdapter {
  const forwarded = forwardedHeaders(callerHeaders);
  return {
    kind: "anthropic",
    buildRequest(endpoint, body, target, stream): UpstreamRequest {
      if (endpoint !== "chat")
        throw new UnsupportedFeatureError("Anthropic serves messages only.", null, "unsupported_endpoint");
      return {
        url: `${target.baseUrl}/v1/messages`,
        init: {
          method: "POST",
          headers: nativeHeaders(target, forwarded),
          body: JSON.stringify(withModel(body, target.model, stream)),
        },
      };
    },
    parseResponse: (_endpoint, json) => ({
      body: json as Record<string, unknown>,
      usage: anthropicUsage((json as { usage?: unknown } | null)?.usage),
    }),
    streamTranslator: (_endpoint, ctx) => createAnthropicStreamTranslator(ctx),
    parseError: errorReader(parseAnthropicErrorBody),
  };
}

/**
 * A native request for `count_tokens` (Anthropic counts with its own tokenizer).
 * @example await fetch(...Object.values(anthropicCountTokensRequest(body, target, headers)))
 */
export function anthropicCountTokensRequest(
  body: Record<string, unknown>,
  target: Target,
  callerHeaders: Headers,
): UpstreamRequest {
  return {
    url: `${target.baseUrl}/v1/messages/count_tokens`,
    init: {
      method: "POST",
      headers: nativeHeaders(target, forwardedHeaders(callerHeaders)),
      body: JSON.stringify({ ...body, model: target.model }),
    },
  };
}

/** The caller's allowlisted headers, bounded. */
function forwardedHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_ANTHROPIC_HEADERS) {
    const value = headers.get(name);
    if (value && value.length <= MAX_FORWARDED_HEADER_CHARS) out[name] = value;
  }
  return out;
}

/** The target's headers, the caller's allowlisted ones over the defaults; the operator's config wins. */
function nativeHeaders(target: Target, forwarded: Record<string, string>): Record<string, string> {
  const headers = anthropicHeaders(target);
  for (const [name, value] of Object.entries(forwarded)) {
    if (!Object.hasOwn(target.headers, name)) headers[name] = value;
  }
  return headers;
}

/** The caller's body with the target's model, in place (key order kept); `stream` as decided. */
function withModel(body: Record<string, unknown>, model: string, stream: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body, model };
  if (stream !== (body.stream === true)) out.stream = stream;
  return out;
}
