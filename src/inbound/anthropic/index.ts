/**
 * The Anthropic-compatible direction (`POST /v1/messages`): Anthropic requests in, OpenAI bodies
 * through the gateway, Anthropic answers, events and errors back out; a zod schema checks what
 * comes in first. Pure functions and schemas only.
 */
export { openAIErrorToAnthropic } from "./error";
export { anthropicRequestToOpenAI } from "./request";
export { anthropicUsageOf, openAIResponseToAnthropic, stopReasonOf } from "./response";
export { type CountTokensBody, CountTokensRequest, type MessagesBody, MessagesRequest } from "./schema";
export { type AnthropicEventEncoder, createAnthropicEventEncoder } from "./stream";
