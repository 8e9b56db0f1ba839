/**
 * The Anthropic-compatible direction (`POST /v1/messages`): Anthropic requests in, OpenAI bodies
 * through the gateway, Anthropic answers, events and errors back out; a zod schema checks what
 * comes in first. Pure functions and schemas only; the words both directions share (stop reasons,
 * usage, error types) are in providers/anthropic/vocabulary.ts.
 */
export { openAIErrorToAnthropic } from "./error";
export { anthropicNativeOutput } from "./native";
export { anthropicOutput } from "./output";
export { anthropicRequestToOpenAI } from "./request";
export { openAIResponseToAnthropic } from "./response";
export { type CountTokensBody, CountTokensRequest, type MessagesBody, MessagesRequest } from "./schema";
export { type AnthropicEventEncoder, createAnthropicEventEncoder } from "./stream";
