import {
  type ChatMessage,
  type ContentPart,
  contentParts,
  imageUrlOf,
  isHttpUrl,
  type JsonRequest,
  numberField,
  parseDataUrl,
  parseToolArguments,
  readJsonRequest,
  readMaxTokens,
  readMessages,
  readStop,
  readThinkingBudget,
  readToolChoice,
  readTools,
  type ToolChoice,
} from "../common/chat-request";
import { invalidField, UnsupportedFeatureError } from "../common/errors";

/** Anthropic requires `max_tokens`; OpenAI callers usually omit it. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024;

/**
 * The forced tool that carries a `json_schema` answer. The answer side turns its input back into
 * message text, so the name is reserved: a caller's own tool of this name would be read as JSON.
 */
export const JSON_TOOL_NAME = "sluice_json_response";

const JSON_OBJECT_INSTRUCTION =
  "Respond with one valid JSON object and nothing else: no prose, no markdown code fences.";

type Block = Record<string, unknown>;
interface AnthropicMessage {
  role: "user" | "assistant";
  content: Block[];
}

/**
 * Builds an Anthropic Messages body from an OpenAI chat body.
 * System messages go to `system`; tool results become user `tool_result` blocks; consecutive
 * messages of one role merge (Anthropic wants alternating turns). `json_schema` is carried by a
 * forced tool (Anthropic's most reliable JSON) unless the caller has tools or thinking is on, in
 * which case a system instruction carries the schema; `json_object` is always an instruction.
 * @example buildMessagesBody({ messages: [{ role: "user", content: "Hi" }] }, "claude-sonnet-4-5", false)
 */
export function buildMessagesBody(
  body: Record<string, unknown>,
  model: string,
  stream: boolean,
): Record<string, unknown> {
  if (numberField(body, "n") !== undefined && body.n !== 1) {
    throw new UnsupportedFeatureError("Anthropic returns one choice per request: `n` must be 1.", "n");
  }
  const messages = readMessages(body);
  const system: Block[] = [];
  const turns: AnthropicMessage[] = [];
  messages.forEach((message, i) => {
    if (message.role === "system" || message.role === "developer") {
      system.push(...textBlocks(message, `messages[${i}].content`));
      return;
    }
    const turn = toAnthropicTurn(message, i);
    if (turn.content.length === 0) return;
    const previous = turns.at(-1);
    if (previous?.role === turn.role) previous.content.push(...turn.content);
    else turns.push(turn);
  });

  const tools = readTools(body);
  const toolChoice = readToolChoice(body);
  const json = readJsonRequest(body);
  const callerForcesTool = toolChoice?.mode === "required" || toolChoice?.mode === "function";
  const explicitMax = readMaxTokens(body);
  const thinking = thinkingBudget(body, explicitMax, callerForcesTool, messages);
  const maxTokens = explicitMax ?? DEFAULT_MAX_TOKENS + (thinking ?? 0);
  const jsonViaTool = json?.kind === "schema" && tools.length === 0 && thinking === null;

  const out: Record<string, unknown> = { model, messages: turns, max_tokens: maxTokens };
  if (json && !jsonViaTool) system.push({ type: "text", text: jsonInstruction(json) });
  if (system.length > 0) out.system = systemField(system);

  if (jsonViaTool && json.kind === "schema") {
    out.tools = [
      { name: JSON_TOOL_NAME, description: json.description ?? json.name, input_schema: json.schema },
    ];
    out.tool_choice = { type: "tool", name: JSON_TOOL_NAME };
  } else if (tools.length > 0) {
    out.tools = tools.map((fn) => ({
      name: fn.name,
      ...(fn.description ? { description: fn.description } : {}),
      input_schema: fn.parameters ?? { type: "object", properties: {} },
    }));
    const choice = anthropicToolChoice(toolChoice, body.parallel_tool_calls === false);
    if (choice) out.tool_choice = choice;
  }

  const stop = readStop(body);
  if (stop) out.stop_sequences = stop;
  if (thinking !== null) {
    // Anthropic rejects temperature and top_p changes while thinking: the caller's are dropped.
    out.thinking = { type: "enabled", budget_tokens: thinking };
  } else {
    const temperature = numberField(body, "temperature");
    // OpenAI's range is 0..2, Anthropic's 0..1: clamp rather than fail the request.
    if (temperature !== undefined) out.temperature = Math.min(temperature, 1);
    const topP = numberField(body, "top_p");
    if (topP !== undefined) out.top_p = topP;
    const topK = numberField(body, "top_k");
    if (topK !== undefined) out.top_k = topK;
  }
  if (typeof body.user === "string" && body.user !== "") out.metadata = { user_id: body.user };
  if (stream) out.stream = true;
  return out;
}

/** One OpenAI message as an Anthropic turn (possibly empty, then dropped by the caller). */
function toAnthropicTurn(message: ChatMessage, i: number): AnthropicMessage {
  const path = `messages[${i}]`;
  switch (message.role) {
    case "user":
      return { role: "user", content: contentBlocks(contentParts(message.content), `${path}.content`) };
    case "assistant": {
      const content = textBlocks(message, `${path}.content`);
      (message.tool_calls ?? []).forEach((call, j) => {
        content.push({
          type: "tool_use",
          id: toolUseId(call.id),
          name: call.function.name,
          input: parseToolArguments(call.function.arguments, `${path}.tool_calls[${j}].function.arguments`),
        });
      });
      return { role: "assistant", content };
    }
    case "tool": {
      if (!message.tool_call_id)
        throw invalidField("A tool message needs `tool_call_id`.", `${path}.tool_call_id`);
      const result: Block = { type: "tool_result", tool_use_id: toolUseId(message.tool_call_id) };
      if (typeof message.content === "string") {
        if (message.content !== "") result.content = message.content;
      } else {
        const blocks = contentBlocks(contentParts(message.content), `${path}.content`);
        if (blocks.length > 0) result.content = blocks;
      }
      return { role: "user", content: [result] };
    }
    default:
      throw new UnsupportedFeatureError(`Message role "${message.role}" is not supported.`, `${path}.role`);
  }
}

/** Text (and refusal) parts only: what system and assistant messages may carry. */
function textBlocks(message: ChatMessage, path: string): Block[] {
  const blocks: Block[] = [];
  contentParts(message.content).forEach((part, j) => {
    const text = part.text ?? part.refusal;
    if (text === undefined) {
      throw new UnsupportedFeatureError(`A ${message.role} message may only hold text.`, `${path}[${j}]`);
    }
    // Anthropic rejects empty text blocks.
    if (text !== "") blocks.push(withCacheControl({ type: "text", text }, part));
  });
  return blocks;
}

/** User content parts as Anthropic blocks: text, images (base64 or URL source) and PDFs. */
function contentBlocks(parts: ContentPart[], path: string): Block[] {
  const blocks: Block[] = [];
  parts.forEach((part, j) => {
    const param = `${path}[${j}]`;
    if (part.type === "text") {
      if (part.text) blocks.push(withCacheControl({ type: "text", text: part.text }, part));
    } else if (part.type === "image_url") {
      blocks.push(withCacheControl({ type: "image", source: imageSource(imageUrlOf(part), param) }, part));
    } else if (part.type === "file" && part.file?.file_data) {
      const data = parseDataUrl(part.file.file_data);
      if (!data) throw invalidField("`file_data` must be a base64 data URL.", `${param}.file.file_data`);
      const source = { type: "base64", media_type: data.mediaType, data: data.data };
      blocks.push(withCacheControl({ type: "document", source }, part));
    } else {
      throw new UnsupportedFeatureError(`Content part "${part.type}" is not supported by Anthropic.`, param);
    }
  });
  return blocks;
}

/** Data URLs travel inline; http(s) URLs as a URL source that Anthropic fetches itself. */
function imageSource(url: string, param: string): Block {
  const data = parseDataUrl(url);
  if (data) return { type: "base64", media_type: data.mediaType, data: data.data };
  if (isHttpUrl(url)) return { type: "url", url };
  throw invalidField("An image URL must be a base64 data URL or an http(s) URL.", `${param}.image_url`);
}

function withCacheControl(block: Block, part: ContentPart): Block {
  return part.cache_control ? { ...block, cache_control: part.cache_control } : block;
}

/** Anthropic tool ids must match ^[a-zA-Z0-9_-]+$; ids from other providers are made to fit. */
export function toolUseId(id: string): string {
  return id.replace(/[^a-zA-Z0-9_-]/g, "_") || "toolu_unknown";
}

/** One system text block stays a plain string; several, or cache markers, stay blocks. */
function systemField(blocks: Block[]): string | Block[] {
  const plain = blocks.every((block) => !block.cache_control);
  return plain ? blocks.map((block) => block.text).join("\n\n") : blocks;
}

function anthropicToolChoice(choice: ToolChoice | null, sequential: boolean): Block | null {
  const parallel = sequential ? { disable_parallel_tool_use: true } : {};
  switch (choice?.mode) {
    case undefined:
      return sequential ? { type: "auto", ...parallel } : null;
    case "auto":
      return { type: "auto", ...parallel };
    case "none":
      return { type: "none" };
    case "required":
      return { type: "any", ...parallel };
    case "function":
      return { type: "tool", name: choice.name, ...parallel };
  }
}

function jsonInstruction(json: JsonRequest): string {
  if (json.kind === "object") return JSON_OBJECT_INSTRUCTION;
  return `${JSON_OBJECT_INSTRUCTION} It must match this JSON Schema:\n${JSON.stringify(json.schema)}`;
}

/**
 * The thinking budget to send, or null for none. Thinking is skipped where Anthropic would
 * reject it: a forced tool choice, a cap too small for the 1024-token minimum, or a last
 * assistant turn with tool calls (Anthropic then wants that turn's signed thinking block back,
 * which the OpenAI shape cannot carry).
 */
function thinkingBudget(
  body: Record<string, unknown>,
  explicitMax: number | undefined,
  callerForcesTool: boolean,
  messages: ChatMessage[],
): number | null {
  const wanted = readThinkingBudget(body);
  if (!wanted || callerForcesTool) return null;
  const lastAssistant = messages.findLast((m) => m.role === "assistant");
  if (lastAssistant?.tool_calls?.length) return null;
  // max_tokens includes the thinking, as OpenAI's max_completion_tokens includes reasoning.
  const budget = explicitMax === undefined ? wanted : Math.min(wanted, explicitMax - 1);
  return budget >= MIN_THINKING_BUDGET ? budget : null;
}
