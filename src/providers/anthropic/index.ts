import { errorReader } from "../common/error-body";
import { UnsupportedFeatureError } from "../common/errors";
import type { Endpoint, ProviderAdapter, Target, UpstreamRequest } from "../types";
import { parseAnthropicErrorBody } from "./error";
import { buildMessagesBody } from "./request";
import { parseMessage } from "./response";
import { createAnthropicStreamTranslator } from "./stream";

export {
  anthropicErrorTypeOfStatus,
  anthropicStatusOf,
  anthropicUsage,
  anthropicUsageOf,
  finishReasonOf,
  stopReasonOf,
} from "./vocabulary";

/** The Messages API version every request pins. */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * The Anthropic Messages wire format (`kind: anthropic`): chat only. Embeddings and legacy
 * completions throw `UnsupportedFeatureError` (a 400) from `buildRequest`.
 */
export const anthropicAdapter: ProviderAdapter = {
  kind: "anthropic",

  buildRequest(endpoint, body, target, stream): UpstreamRequest {
    assertChat(endpoint);
    return {
      url: `${target.baseUrl}/v1/messages`,
      init: {
        method: "POST",
        headers: anthropicHeaders(target),
        body: JSON.stringify(buildMessagesBody(body, target.model, stream)),
      },
    };
  },

  parseResponse(endpoint, json, ctx) {
    assertChat(endpoint);
    return parseMessage(json, ctx);
  },

  streamTranslator(endpoint, ctx) {
    assertChat(endpoint);
    return createAnthropicStreamTranslator(ctx);
  },

  parseError: errorReader(parseAnthropicErrorBody),
};

/** Request headers for Anthropic; the key goes in `x-api-key` only. */
export function anthropicHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
    ...target.headers,
  };
  if (target.apiKey) headers["x-api-key"] = target.apiKey;
  return headers;
}

function assertChat(endpoint: Endpoint): void {
  if (endpoint === "chat") return;
  const what = endpoint === "embeddings" ? "an embeddings endpoint" : "a legacy completions endpoint";
  throw new UnsupportedFeatureError(
    `Anthropic has no ${what}: route this model elsewhere.`,
    null,
    "unsupported_endpoint",
  );
}
