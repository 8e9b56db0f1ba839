/** What the mock will answer to a request, computed without a server, for tests' expectations. */

import { anthropicConversation } from "./anthropic";
import { geminiConversation } from "./gemini";
import { openaiChatConversation } from "./openai-chat";
import { openaiCompletionsConversation } from "./openai-completions";
import { readMockOptions, splitModelName } from "./options";
import { type Conversation, planReply, promptTokensOf, type ReplyPlan } from "./reply";
import { bodyObject } from "./route";

/** The mock endpoints that answer with generated text. */
export type MockTextEndpoint =
  | "openai-chat"
  | "openai-completions"
  | "anthropic-messages"
  | "gemini-generate";

const READERS: Record<MockTextEndpoint, (body: Record<string, unknown>) => Conversation> = {
  "openai-chat": openaiChatConversation,
  "openai-completions": openaiCompletionsConversation,
  "anthropic-messages": anthropicConversation,
  "gemini-generate": geminiConversation,
};

/**
 * The prompt tokens the mock counts for a request body, before any `cached-tokens` option:
 * per message (system prompt included) its word count plus 3; legacy completions prompts count
 * their words only.
 * @example mockPromptTokens("openai-chat", { messages: [{ role: "user", content: "Hi there" }] }) // 5
 */
export function mockPromptTokens(endpoint: MockTextEndpoint, body: unknown): number {
  return promptTokensOf(READERS[endpoint](bodyObject(body)));
}

/**
 * The answer the mock gives to a request: text or tool calls, finish reason and format-neutral usage.
 * `headers` are the request's `x-mock-*` headers; `model` is needed for Gemini, whose model is in the
 * path (defaults to the body's `model`). Tool call ids differ from the served ones.
 * @example predictMockReply("openai-chat", body, { headers: { "x-mock-cached-tokens": "4" } }).usage.cachedTokens // 4
 */
export function predictMockReply(
  endpoint: MockTextEndpoint,
  body: unknown,
  opts: { headers?: Record<string, string>; model?: string } = {},
): ReplyPlan {
  const object = bodyObject(body);
  const rawModel = opts.model ?? (typeof object.model === "string" ? object.model : "");
  const headers = Object.fromEntries(
    Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const options = readMockOptions(headers, splitModelName(rawModel).suffix);
  return planReply(READERS[endpoint](object), options, "predicted");
}
