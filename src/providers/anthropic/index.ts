import { errorReader } from "../common/error-body";
import { UnsupportedFeatureError } from "../common/errors";
import type { Endpoint, ProviderAdapter, UpstreamRequest } from "../types";
import { parseAnthropicErrorBody } from "./error";
import { anthropicHeaders } from "./headers";
import { buildMessagesBody } from "./request";
import { parseMessage } from "./response";
import { createAnthropicStreamTranslator } from "./stream";

export { addCacheBreakpoints, type CacheTtl, withPromptCaching } from "./caching";
export { ANTHROPIC_VERSION, anthropicHeaders } from "./headers";
export {
  anthropicCountTokensRequest,
  anthropicPassthrough,
  FORWARDED_ANTHROPIC_HEADERS,
} from "./passthrough";
export {
  anthropicErrorTypeOfStatus,
  anthropicStatusOf,
  anthropicUsage,
  anthropicUsageOf,
  finishReasonOf,
  stopReasonOf,
} from "./vocabulary";

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

  streamTranslator(endpoint, ctx, options) {
    assertChat(endpoint);
    return createAnthropicStreamTranslator(ctx, options);
  },

  parseError: errorReader(parseAnthropicErrorBody),
};

function assertChat(endpoint: Endpoint): void {
  if (endpoint === "chat") return;
  const what =
    endpoint === "embeddings"
      ? "an embeddings endpoint"
      : endpoint === "responses"
        ? "a Responses API endpoint"
        : "a legacy completions endpoint";
  throw new UnsupportedFeatureError(
    `Anthropic has no ${what}: route this model elsewhere.`,
    null,
    "unsupported_endpoint",
  );
}
