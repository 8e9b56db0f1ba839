import { THINKING_BUDGETS } from "../../providers/common/chat-request";
import { UnsupportedFeatureError } from "../../providers/common/errors";
import type { CountTokensBody, MessagesBody } from "./schema";

type Json = Record<string, unknown>;

/** Blocks as the schema (./schema.ts) left them: known types checked, unknown types as sent. */
interface AnthropicBlock {
  type: string;
  text?: string;
  source?: { type?: string; media_type?: string; data?: string; url?: string };
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | AnthropicBlock[];
}

interface AnthropicMessage {
  role: "user" | "assistant";
  content: string | AnthropicBlock[];
}

/**
 * Thinking budgets at or under which a request maps to each OpenAI effort: the adapter's own
 * budget for that effort, so an effort sent on to Anthropic asks for no more than was asked here.
 */
const EFFORT_CEILINGS = (["low", "medium"] as const).map(
  (effort) => [THINKING_BUDGETS[effort], effort] as const,
);

/**
 * An Anthropic Messages request (the gateway's `POST /v1/messages`), already validated by
 * `MessagesRequest` (or `CountTokensRequest`, where `max_tokens` is optional), as an OpenAI chat
 * body, so it can be routed to any provider. `system` becomes a system message; `tool_result` blocks
 * become `tool` messages placed before the rest of their user turn (OpenAI wants them right
 * after the assistant's tool calls); `thinking` becomes `reasoning_effort`; `metadata.user_id`
 * becomes `user`. Streams always ask for usage, which the Anthropic events need at the end.
 * Dropped: `cache_control`, `top_k`, thinking blocks of earlier turns, `is_error` flags, block
 * types it does not know. A known block it cannot carry (a file-id image) is a 400.
 * @example anthropicRequestToOpenAI({ model: "claude-sonnet-4-5", max_tokens: 256, messages: [{ role: "user", content: "Hi" }] })
 */
export function anthropicRequestToOpenAI(body: MessagesBody | CountTokensBody): Json {
  const messages: Json[] = [];
  const system = systemText(body.system);
  if (system !== null) messages.push({ role: "system", content: system });
  (body.messages as AnthropicMessage[]).forEach((message, i) => {
    messages.push(...toOpenAIMessages(message, `messages[${i}]`));
  });

  const out: Json = { model: body.model, messages };
  if (body.max_tokens !== undefined) out.max_tokens = body.max_tokens;
  if (body.stop_sequences && body.stop_sequences.length > 0) out.stop = body.stop_sequences;
  if (body.temperature !== undefined) out.temperature = body.temperature;
  if (body.top_p !== undefined) out.top_p = body.top_p;
  if (body.tools && body.tools.length > 0) out.tools = body.tools.map(toOpenAITool);
  Object.assign(out, toolChoice(body.tool_choice));
  const effort = reasoningEffort(body.thinking);
  if (effort) out.reasoning_effort = effort;
  const userId = body.metadata?.user_id;
  if (typeof userId === "string" && userId !== "") out.user = userId;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

function systemText(system: MessagesBody["system"]): string | null {
  if (typeof system === "string") return system === "" ? null : system;
  if (!system || system.length === 0) return null;
  return system.map((block) => block.text).join("\n\n");
}

function toOpenAIMessages(message: AnthropicMessage, path: string): Json[] {
  const blocks: AnthropicBlock[] =
    typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
  if (message.role === "assistant") return [assistantMessage(blocks)];

  const toolMessages: Json[] = [];
  // Images a tool returned: OpenAI tool messages hold text only, so they open the user turn.
  const toolImages: Json[] = [];
  const parts: Json[] = [];
  blocks.forEach((block, j) => {
    const param = `${path}.content[${j}]`;
    if (block.type === "tool_result") {
      const content =
        typeof block.content === "string" ? [{ type: "text", text: block.content }] : (block.content ?? []);
      const text = content
        .filter((inner) => inner.type === "text")
        .map((inner) => inner.text ?? "")
        .join("\n");
      for (const inner of content) if (inner.type === "image") toolImages.push(imagePart(inner, param));
      toolMessages.push({ role: "tool", tool_call_id: block.tool_use_id ?? "", content: text });
    } else {
      const part = userPart(block, param);
      if (part) parts.push(part);
    }
  });
  const user = [...toolImages, ...parts];
  if (user.length === 0) return toolMessages;
  const onlyText = user.length === 1 && user[0]?.type === "text" && typeof message.content === "string";
  return [...toolMessages, { role: "user", content: onlyText ? message.content : user }];
}

/** Text and tool calls; the rest of an assistant turn (thinking, server tool traffic) stays behind. */
function assistantMessage(blocks: AnthropicBlock[]): Json {
  let text = "";
  const toolCalls: Json[] = [];
  for (const block of blocks) {
    if (block.type === "text") text += block.text ?? "";
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: block.id ?? "",
        type: "function",
        function: { name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const message: Json = { role: "assistant", content: text === "" && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

/** A user block as an OpenAI content part; null for empty text and for block types it does not know. */
function userPart(block: AnthropicBlock, param: string): Json | null {
  switch (block.type) {
    case "text":
      return block.text ? { type: "text", text: block.text } : null;
    case "image":
      return imagePart(block, param);
    case "document":
      if (block.source?.type === "base64" && block.source.media_type === "application/pdf") {
        const fileData = `data:application/pdf;base64,${block.source.data ?? ""}`;
        return { type: "file", file: { file_data: fileData, filename: "document.pdf" } };
      }
      throw new UnsupportedFeatureError("Only base64 PDF documents are supported here.", param);
    default:
      return null;
  }
}

function imagePart(block: AnthropicBlock, param: string): Json {
  const source = block.source ?? {};
  if (source.type === "base64") {
    return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data ?? ""}` } };
  }
  if (source.type === "url" && source.url) return { type: "image_url", image_url: { url: source.url } };
  throw new UnsupportedFeatureError(`Image source "${source.type}" is not supported here.`, param);
}

function toOpenAITool(tool: Json, i: number): Json {
  // Custom tools have no type (or null, or "custom"); server tools (web search, bash...) run at
  // Anthropic only.
  if (tool.type != null && tool.type !== "custom") {
    throw new UnsupportedFeatureError(`Tool type "${tool.type}" is not supported here.`, `tools[${i}]`);
  }
  const fn: Json = { name: tool.name, parameters: tool.input_schema ?? { type: "object", properties: {} } };
  if (typeof tool.description === "string") fn.description = tool.description;
  return { type: "function", function: fn };
}

function toolChoice(choice: MessagesBody["tool_choice"]): Json {
  if (!choice) return {};
  if (choice.type === "none") return { tool_choice: "none" };
  const sequential = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case "auto":
      return { tool_choice: "auto", ...sequential };
    case "any":
      return { tool_choice: "required", ...sequential };
    case "tool":
      return { tool_choice: { type: "function", function: { name: choice.name } }, ...sequential };
  }
}

function reasoningEffort(thinking: unknown): string | null {
  const t = thinking as { type?: string; budget_tokens?: number } | undefined;
  if (t?.type !== "enabled" || typeof t.budget_tokens !== "number") return null;
  const budget = t.budget_tokens;
  return EFFORT_CEILINGS.find(([ceiling]) => budget <= ceiling)?.[1] ?? "high";
}
