import { anthropicStatusOf } from "../../providers/anthropic";
import type { OutputFormat } from "../../proxy/output";
import { openAIResponseToAnthropic } from "./response";
import { createAnthropicEventEncoder } from "./stream";

/** The status a stream's error is rendered with when nothing more telling is known. */
const STREAM_FAILURE_STATUS = 502;

/**
 * Anthropic Messages output for `POST /v1/messages`, whatever provider answered. A stream cut
 * short ends with Anthropic's `error` event; a provider's own error keeps its Anthropic type
 * (an Anthropic `overloaded_error` stays one), anything else is an `api_error`.
 * @example proxy(c, { endpoint: "chat", body, stream: true, output: anthropicOutput(body.model) }, timing)
 */
export function anthropicOutput(requestedModel: string): OutputFormat {
  return {
    stream: () => {
      const encoder = createAnthropicEventEncoder(requestedModel);
      return {
        frame: (payload) => encoder.push(payload) || null,
        fail: (error) => encoder.fail(anthropicStatusOf(error.error) ?? STREAM_FAILURE_STATUS, error),
      };
    },
    json: (body) => openAIResponseToAnthropic(body, requestedModel),
  };
}
