/**
 * The Anthropic-compatible direction (`POST /v1/messages`): Anthropic requests in, OpenAI bodies
 * through the gateway, Anthropic answers, events and errors back out. Pure functions only.
 */
export { openAIErrorToAnthropic } from "./error";
export { anthropicRequestToOpenAI } from "./request";
export { anthropicUsageOf, openAIResponseToAnthropic, stopReasonOf } from "./response";
export { type AnthropicEventEncoder, createAnthropicEventEncoder } from "./stream";
