import { maxOutputTokens } from "../../estimate";
import { invalidField, UnsupportedFeatureError } from "./errors";

/**
 * The parts of an OpenAI chat request the translators read. Bodies arrive validated but loose
 * (unknown fields kept), so every field is optional here and read defensively.
 */
export interface ChatMessage {
  role: string;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

export interface ContentPart {
  type: string;
  text?: string;
  refusal?: string;
  image_url?: { url: string; detail?: string } | string;
  input_audio?: { data: string; format: string };
  file?: { file_data?: string; file_id?: string; filename?: string };
  /** Anthropic prompt-caching marker, passed through by the Anthropic adapter (LiteLLM's convention). */
  cache_control?: Record<string, unknown>;
}

export interface ChatToolCall {
  id: string;
  type?: string;
  function: { name: string; arguments?: string };
  /** Provider extras carried on a tool call; Gemini's thought signature lives here. */
  extra_content?: { google?: { thought_signature?: string } };
}

export interface ChatTool {
  type: string;
  function?: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** The normalised `tool_choice`: a mode, or the one function the model must call. */
export type ToolChoice = { mode: "auto" | "none" | "required" } | { mode: "function"; name: string };

/** The `messages` array of a chat body; a 400 when it is missing. */
export function readMessages(body: Record<string, unknown>): ChatMessage[] {
  if (!Array.isArray(body.messages)) throw invalidField("`messages` must be an array.", "messages");
  return body.messages as ChatMessage[];
}

/** The content of a message as parts: a string becomes one text part, null none. */
export function contentParts(content: ChatMessage["content"]): ContentPart[] {
  if (content == null) return [];
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content;
}

/** The text of a message's content (text and refusal parts joined), ignoring other parts. */
export function contentText(content: ChatMessage["content"]): string {
  return contentParts(content)
    .map((part) => part.text ?? part.refusal ?? "")
    .join("");
}

/** The URL of an `image_url` part, whichever of its two shapes the caller used. */
export function imageUrlOf(part: ContentPart): string {
  const image = part.image_url;
  return typeof image === "string" ? image : (image?.url ?? "");
}

/** The function tools of a body; any other tool type is a 400 (no provider here can run it). */
export function readTools(body: Record<string, unknown>): NonNullable<ChatTool["function"]>[] {
  if (!Array.isArray(body.tools)) return [];
  return (body.tools as ChatTool[]).map((tool, i) => {
    if (tool.type !== "function" || !tool.function?.name) {
      throw new UnsupportedFeatureError(`Tool type "${tool.type}" is not supported here.`, `tools[${i}]`);
    }
    return tool.function;
  });
}

/** `tool_choice` in any of OpenAI's forms, or null when the caller left it out. */
export function readToolChoice(body: Record<string, unknown>): ToolChoice | null {
  const choice = body.tool_choice;
  if (choice == null) return null;
  if (choice === "auto" || choice === "none" || choice === "required") return { mode: choice };
  const named = choice as { type?: string; function?: { name?: string } };
  if (named.type === "function" && named.function?.name)
    return { mode: "function", name: named.function.name };
  throw invalidField("`tool_choice` must be auto, none, required or a named function.", "tool_choice");
}

/**
 * A tool call's `arguments` as the object the provider wants. An empty string means no arguments
 * (some models send that); anything but a JSON object is a 400 rather than a silent `{}`.
 */
export function parseToolArguments(args: string | undefined, param: string): Record<string, unknown> {
  if (args === undefined || args.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw invalidField("Tool call arguments must be a JSON object.", param);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw invalidField("Tool call arguments must be a JSON object.", param);
  }
  return parsed as Record<string, unknown>;
}

/** `stop` as a list: OpenAI takes a string or an array. */
export function readStop(body: Record<string, unknown>): string[] | undefined {
  const stop = body.stop;
  if (typeof stop === "string") return [stop];
  if (Array.isArray(stop) && stop.length > 0) return stop.filter((s): s is string => typeof s === "string");
  return undefined;
}

/** The caller's output-token cap for a chat body, read as the gateway's estimates read it. */
export function readMaxTokens(body: Record<string, unknown>): number | undefined {
  return maxOutputTokens("chat", body) ?? undefined;
}

/** A number field, or undefined when absent or not a number. */
export function numberField(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  return typeof value === "number" ? value : undefined;
}

/** The `response_format` the caller asked for, reduced to what a translation can honour. */
export type JsonRequest =
  | { kind: "object" }
  | { kind: "schema"; name: string; description?: string; schema: Record<string, unknown> };

/** Reads `response_format`; `text` or nothing means no JSON constraint. */
export function readJsonRequest(body: Record<string, unknown>): JsonRequest | null {
  const format = body.response_format as { type?: string; json_schema?: Record<string, unknown> } | undefined;
  if (!format || format.type === "text" || format.type === undefined) return null;
  if (format.type === "json_object") return { kind: "object" };
  if (format.type === "json_schema") {
    const spec = format.json_schema ?? {};
    const schema = spec.schema;
    if (!schema || typeof schema !== "object") {
      throw invalidField("`response_format.json_schema.schema` must be an object.", "response_format");
    }
    return {
      kind: "schema",
      name: typeof spec.name === "string" ? spec.name : "response",
      description: typeof spec.description === "string" ? spec.description : undefined,
      schema: schema as Record<string, unknown>,
    };
  }
  throw new UnsupportedFeatureError(
    `response_format type "${format.type}" is not supported.`,
    "response_format",
  );
}

/**
 * Thinking budgets for `reasoning_effort`: low, medium and high are the figures Google's
 * OpenAI-compatible endpoint uses for Gemini, reused for Anthropic so one effort means one budget
 * everywhere; xhigh (OpenAI's newest level) goes one step further.
 */
export const THINKING_BUDGETS = { low: 1024, medium: 8192, high: 24576, xhigh: 32768 } as const;

/**
 * The thinking budget `reasoning_effort` asks for: a number of tokens, 0 when the caller turned
 * thinking off (`none` / `minimal`), or null when the caller did not ask.
 */
export function readThinkingBudget(body: Record<string, unknown>): number | null {
  const effort = body.reasoning_effort;
  if (effort == null) return null;
  if (effort === "none" || effort === "minimal") return 0;
  if (typeof effort === "string" && Object.hasOwn(THINKING_BUDGETS, effort)) {
    return THINKING_BUDGETS[effort as keyof typeof THINKING_BUDGETS];
  }
  throw invalidField(
    "`reasoning_effort` must be none, minimal, low, medium, high or xhigh.",
    "reasoning_effort",
  );
}

/** A base64 `data:` URL split into its media type and payload; null for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  const match = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s.exec(url);
  if (!match) return null;
  return { mediaType: (match[1] ?? "").toLowerCase(), data: match[3] ?? "" };
}

/** True for http(s) URLs, the only remote kind any provider here may be handed. */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}
