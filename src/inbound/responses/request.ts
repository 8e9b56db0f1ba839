import { badRequest } from "../../errors";
import { isPlainObject } from "../../plain-object";
import { UnsupportedFeatureError } from "../../providers/common/errors";
import type { ResponsesBody } from "./schema";

type Json = Record<string, unknown>;

/**
 * The request's `input` as a list of items: a bare string is one user message, as OpenAI lists it
 * back in `input_items`.
 * @example inputItems("hi") // [{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }]
 */
export function inputItems(input: ResponsesBody["input"]): Json[] {
  if (input === undefined) return [];
  if (typeof input === "string") {
    return [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  }
  return input as Json[];
}

/**
 * A Responses request as an OpenAI chat body, for providers without the Responses API: items
 * (earlier turns first) become messages, function tools chat tools, `text.format` the
 * `response_format`, `reasoning.effort` the `reasoning_effort`, `max_output_tokens` the
 * `max_completion_tokens`. Built-in tools and items only a native upstream can run are a 400 naming
 * the param.
 * @example responsesRequestToChat(body, inputItems(body.input))
 */
export function responsesRequestToChat(body: ResponsesBody, items: Json[]): Json {
  const messages: Json[] = [];
  if (typeof body.instructions === "string" && body.instructions !== "") {
    messages.push({ role: "system", content: body.instructions });
  }
  items.forEach((item, i) => {
    addItem(messages, item, `input[${i}]`);
  });
  const chat: Json = { model: body.model, messages };
  if (body.stream === true) chat.stream = true;
  if (body.tools && body.tools.length > 0) chat.tools = body.tools.map(chatTool);
  if (body.tool_choice !== undefined) chat.tool_choice = chatToolChoice(body.tool_choice);
  if (typeof body.parallel_tool_calls === "boolean") chat.parallel_tool_calls = body.parallel_tool_calls;
  const format = body.text?.format;
  if (format && format.type !== "text") chat.response_format = chatResponseFormat(format);
  if (body.reasoning?.effort) chat.reasoning_effort = body.reasoning.effort;
  if (typeof body.max_output_tokens === "number") chat.max_completion_tokens = body.max_output_tokens;
  if (typeof body.temperature === "number") chat.temperature = body.temperature;
  if (typeof body.top_p === "number") chat.top_p = body.top_p;
  if (typeof body.user === "string") chat.user = body.user;
  return chat;
}

/** Adds one item to the chat messages; a function call joins the assistant message before it. */
function addItem(messages: Json[], item: Json, param: string): void {
  const type = item.type ?? "message";
  if (type === "message") {
    messages.push(chatMessage(item, param));
  } else if (type === "function_call") {
    const call = {
      id: item.call_id,
      type: "function",
      function: { name: item.name, arguments: item.arguments },
      ...(isPlainObject(item.extra_content) ? { extra_content: item.extra_content } : {}),
    };
    const last = messages.at(-1);
    if (last?.role === "assistant") last.tool_calls = [...((last.tool_calls as Json[]) ?? []), call];
    else messages.push({ role: "assistant", content: null, tool_calls: [call] });
  } else if (type === "function_call_output") {
    messages.push({ role: "tool", tool_call_id: item.call_id, content: plainText(item.output) });
  } else if (type !== "reasoning") {
    // Reasoning is the model's own and stays with it; anything else needs a native upstream.
    throw nativeOnly(`Input items of type '${String(type)}'`, `${param}.type`);
  }
}

function chatMessage(item: Json, param: string): Json {
  const role = item.role === "developer" ? "system" : item.role;
  if (typeof item.content === "string") return { role, content: item.content };
  const parts = (item.content as Json[]).map((part, i) => chatPart(part, `${param}.content[${i}]`));
  // Chat assistant messages take text only.
  if (role === "assistant") return { role, content: parts.map((p) => p.text ?? "").join("") };
  return { role, content: parts };
}

function chatPart(part: Json, param: string): Json {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: String(part.text ?? "") };
    case "refusal":
      return { type: "text", text: String(part.refusal ?? "") };
    case "input_image": {
      if (typeof part.image_url !== "string" || part.image_url === "") {
        throw badRequest(
          "Images need an image_url (a URL or a data URL) here; file_id is not supported.",
          `${param}.image_url`,
          "invalid_value",
        );
      }
      const detail = part.detail === "low" || part.detail === "high" ? part.detail : "auto";
      return { type: "image_url", image_url: { url: part.image_url, detail } };
    }
    case "input_file": {
      if (typeof part.file_data !== "string") {
        throw badRequest(
          "Files need file_data (a data URL) here; file_id and file_url are not supported.",
          `${param}.file_data`,
          "invalid_value",
        );
      }
      return { type: "file", file: { file_data: part.file_data, filename: part.filename } };
    }
    default:
      throw nativeOnly(`Content parts of type '${String(part.type)}'`, `${param}.type`);
  }
}

/** A function call's output: a string, or the text of its parts. */
function plainText(output: unknown): string {
  if (typeof output === "string") return output;
  if (!Array.isArray(output)) return "";
  return output
    .map((part) => (isPlainObject(part) && typeof part.text === "string" ? part.text : ""))
    .join("");
}

function chatTool(tool: Json, i: number): Json {
  if (tool.type !== "function") throw nativeOnly(`The '${String(tool.type)}' tool`, `tools[${i}].type`);
  const fn: Json = { name: tool.name };
  if (typeof tool.description === "string") fn.description = tool.description;
  if (isPlainObject(tool.parameters)) fn.parameters = tool.parameters;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return { type: "function", function: fn };
}

function chatToolChoice(choice: NonNullable<ResponsesBody["tool_choice"]>): unknown {
  if (typeof choice === "string") return choice;
  if (choice.type === "function" && typeof choice.name === "string") {
    return { type: "function", function: { name: choice.name } };
  }
  throw nativeOnly(`tool_choice of type '${String(choice.type)}'`, "tool_choice.type");
}

function chatResponseFormat(format: Json): Json {
  if (format.type === "json_object") return { type: "json_object" };
  const schema: Json = { name: format.name, schema: format.schema };
  if (typeof format.description === "string") schema.description = format.description;
  if (typeof format.strict === "boolean") schema.strict = format.strict;
  return { type: "json_schema", json_schema: schema };
}

/**
 * What only a provider serving the Responses API natively can run: a clear 400 on routes without
 * such a provider; on a mixed route, the targets without it refuse it and routing moves on.
 */
function nativeOnly(what: string, param: string) {
  return new UnsupportedFeatureError(
    `${what} can only be served by providers with the native Responses API; this model's route has targets without it.`,
    param,
    "unsupported_on_route",
  );
}
