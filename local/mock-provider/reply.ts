/**
 * The format-neutral core of a mock answer: each wire format turns its request into a
 * Conversation, `planReply` decides the answer and its token counts, and the wire format renders it.
 */

import type { MockOptions } from "./options";
import { countMockTokens, firstWords, mockReplyText } from "./text";

/** Tokens every chat message (the system prompt included) costs on top of its words. */
export const MESSAGE_OVERHEAD_TOKENS = 3;

/** Output tokens each tool call costs, whatever its arguments. */
export const TOOL_CALL_TOKENS = 10;

/** One message reduced to its role and text. */
export interface ConversationMessage {
  role: string;
  text: string;
}

/** A tool the request offers. */
export interface OfferedTool {
  name: string;
  /** JSON schema of the arguments, if the request gave one. */
  schema?: unknown;
}

/** A request, whatever its wire format, as the mock sees it. */
export interface Conversation {
  messages: ConversationMessage[];
  /** Tokens each message costs on top of its words: MESSAGE_OVERHEAD_TOKENS for chats, 0 for bare prompts. */
  overheadPerMessage: number;
  tools: OfferedTool[];
  /** "none" disables tools; a name forces that tool. */
  toolChoice: { mode: "auto" } | { mode: "none" } | { mode: "named"; name: string };
  maxTokens?: number;
}

/** A tool call the mock answers with. */
export interface MockToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

/** Token counts of one answer, format-neutral. */
export interface MockUsage {
  /** All prompt tokens, cached and cache-written ones included. */
  promptTokens: number;
  /** Prompt tokens read from cache (a part of promptTokens). */
  cachedTokens: number;
  /** Prompt tokens written to cache (a part of promptTokens). */
  cacheWriteTokens: number;
  /** The part of cacheWriteTokens written with a 1-hour TTL (Anthropic). */
  cacheWrite1hTokens?: number;
  /** All output tokens, reasoning included. */
  outputTokens: number;
  /** Reasoning tokens (a part of outputTokens). */
  reasoningTokens: number;
}

/** The answer the mock gives: text or tool calls, why it stopped, and its usage. */
export interface ReplyPlan {
  text: string;
  toolCalls: MockToolCall[];
  finish: "stop" | "length" | "tool_calls";
  usage: MockUsage;
}

/**
 * Prompt tokens of a conversation: per message, its word count plus the per-message overhead.
 * @example promptTokensOf({ messages: [{ role: "user", text: "Hi there" }], overheadPerMessage: 3, ... }) // 5
 */
export function promptTokensOf(conversation: Pick<Conversation, "messages" | "overheadPerMessage">): number {
  return conversation.messages.reduce(
    (sum, m) => sum + conversation.overheadPerMessage + countMockTokens(m.text),
    0,
  );
}

/** The text of the last user message, or "" when there is none. */
export function lastUserText(messages: ConversationMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]?.role === "user") return messages[i]?.text ?? "";
  return "";
}

/**
 * Collects the text of a message's content in any wire format: plain strings, `{text}` parts and
 * blocks, and the nested `content` of tool results. Images and tool calls carry no text.
 */
export function textOfContent(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (Array.isArray(content)) return content.flatMap(textOfContent);
  if (content !== null && typeof content === "object") {
    const o = content as Record<string, unknown>;
    if (typeof o.text === "string") return [o.text];
    if ("content" in o) return textOfContent(o.content);
    if ("parts" in o) return textOfContent(o.parts);
  }
  return [];
}

/**
 * Deterministic tool arguments built from the tool's JSON schema: strings are "mock-<name>", numbers
 * 42, booleans true, enums their first value, arrays [] and objects {}.
 * @example mockToolArguments({ properties: { city: { type: "string" } } }) // { city: "mock-city" }
 */
export function mockToolArguments(schema: unknown): Record<string, unknown> {
  const properties = (schema as { properties?: Record<string, { type?: unknown; enum?: unknown[] }> })
    ?.properties;
  const args: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(properties ?? {})) {
    const type = String(prop?.type ?? "string").toLowerCase();
    if (Array.isArray(prop?.enum) && prop.enum.length > 0) args[name] = prop.enum[0];
    else if (type === "number" || type === "integer") args[name] = 42;
    else if (type === "boolean") args[name] = true;
    else if (type === "array") args[name] = [];
    else if (type === "object") args[name] = {};
    else args[name] = `mock-${name}`;
  }
  return args;
}

/** The format-neutral usage for a prompt size and an output size under the given options. */
export function mockUsage(visiblePrompt: number, visibleOutput: number, options: MockOptions): MockUsage {
  return {
    // A declared cached prefix longer than the prompt grows the prompt, so tests can ask for any split.
    promptTokens: Math.max(visiblePrompt, options.cachedTokens + options.cacheWriteTokens),
    cachedTokens: options.cachedTokens,
    cacheWriteTokens: options.cacheWriteTokens,
    outputTokens: visibleOutput + options.reasoningTokens,
    reasoningTokens: options.reasoningTokens,
  };
}

/**
 * Decides the mock's answer to a conversation.
 * Tools offered and tool choice not "none": `parallelTools` calls to the named tool, or to the offered
 * tools in turn. Otherwise text from `mockReplyText`, cut to `maxTokens` words (finish "length").
 * @param idPrefix prefix of tool call ids, e.g. "call_mock_7"
 */
export function planReply(
  conversation: Conversation,
  options: MockOptions,
  idPrefix = "call_mock",
): ReplyPlan {
  const prompt = promptTokensOf(conversation);
  const { tools, toolChoice } = conversation;
  if (tools.length > 0 && toolChoice.mode !== "none") {
    const named = toolChoice.mode === "named" ? tools.find((t) => t.name === toolChoice.name) : undefined;
    const toolCalls = Array.from({ length: options.parallelTools }, (_, i) => {
      const tool = named ?? tools[i % tools.length] ?? { name: "tool" };
      return {
        id: `${idPrefix}_${i}`,
        name: tool.name,
        arguments: JSON.stringify(mockToolArguments(tool.schema)),
      };
    });
    return {
      text: "",
      toolCalls,
      finish: "tool_calls",
      usage: mockUsage(prompt, toolCalls.length * TOOL_CALL_TOKENS, options),
    };
  }
  let text = mockReplyText(lastUserText(conversation.messages), options);
  let finish: ReplyPlan["finish"] = "stop";
  const max = conversation.maxTokens;
  if (max !== undefined && countMockTokens(text) > max) {
    text = firstWords(text, max);
    finish = "length";
  }
  return { text, toolCalls: [], finish, usage: mockUsage(prompt, countMockTokens(text), options) };
}
