import {
  type ChatMessage,
  type ContentPart,
  contentParts,
  imageUrlOf,
  isHttpUrl,
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
} from "../common/chat-request";
import { invalidField, UnsupportedFeatureError } from "../common/errors";

/**
 * Gemini 3 rejects a replayed function call without its thought signature. When the caller's
 * history lost it (another provider answered, or a client rebuilt the message), Google documents
 * this value as the way to skip the check.
 */
export const SKIP_THOUGHT_SIGNATURE = "skip_thought_signature_validator";

type Part = Record<string, unknown>;
interface GeminiContent {
  role: "user" | "model";
  parts: Part[];
}

/**
 * Builds a Gemini `generateContent` body from an OpenAI chat body: assistant turns become
 * `model` turns, system messages `systemInstruction`, tool calls `functionCall` parts and tool
 * results `functionResponse` parts (named after the call they answer, which Gemini needs).
 * Remote image URLs are refused (Gemini needs the bytes): see `inlineRemoteImages`.
 * @example buildGenerateContentBody({ messages: [{ role: "user", content: "Hi" }] })
 */
export function buildGenerateContentBody(body: Record<string, unknown>): Record<string, unknown> {
  const messages = readMessages(body);
  const callNames = toolCallNames(messages);
  const system: Part[] = [];
  const contents: GeminiContent[] = [];
  messages.forEach((message, i) => {
    if (message.role === "system" || message.role === "developer") {
      for (const part of contentParts(message.content)) if (part.text) system.push({ text: part.text });
      return;
    }
    const turn = toGeminiTurn(message, i, callNames);
    if (turn.parts.length === 0) return;
    const previous = contents.at(-1);
    if (previous?.role === turn.role) previous.parts.push(...turn.parts);
    else contents.push(turn);
  });

  const out: Record<string, unknown> = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const tools = readTools(body);
  if (tools.length > 0) {
    out.tools = [
      {
        functionDeclarations: tools.map((fn) => ({
          name: fn.name,
          ...(fn.description ? { description: fn.description } : {}),
          // The JSON Schema field takes OpenAI's schemas as they are (`parameters` wants OpenAPI).
          ...(fn.parameters ? { parametersJsonSchema: fn.parameters } : {}),
        })),
      },
    ];
    const toolConfig = functionCallingConfig(body);
    if (toolConfig) out.toolConfig = { functionCallingConfig: toolConfig };
  }
  const generationConfig = buildGenerationConfig(body);
  if (Object.keys(generationConfig).length > 0) out.generationConfig = generationConfig;
  return out;
}

/** Tool call id → function name, from every assistant turn of the history. */
function toolCallNames(messages: ChatMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
  }
  return names;
}

function toGeminiTurn(message: ChatMessage, i: number, callNames: Map<string, string>): GeminiContent {
  const path = `messages[${i}]`;
  switch (message.role) {
    case "user":
      return { role: "user", parts: userParts(contentParts(message.content), `${path}.content`) };
    case "assistant": {
      const parts: Part[] = [];
      for (const part of contentParts(message.content)) {
        const text = part.text ?? part.refusal;
        if (text) parts.push({ text });
      }
      (message.tool_calls ?? []).forEach((call, j) => {
        const args = parseToolArguments(
          call.function.arguments,
          `${path}.tool_calls[${j}].function.arguments`,
        );
        const part: Part = { functionCall: { name: call.function.name, args } };
        const signature = call.extra_content?.google?.thought_signature;
        // Gemini signs only the first call of a parallel batch; the rest carry none.
        if (signature) part.thoughtSignature = signature;
        else if (j === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
        parts.push(part);
      });
      return { role: "model", parts };
    }
    case "tool": {
      const name = message.tool_call_id ? callNames.get(message.tool_call_id) : undefined;
      if (!name) {
        throw invalidField(
          "A tool message must answer a tool call of an earlier assistant message (Gemini needs its name).",
          `${path}.tool_call_id`,
        );
      }
      const text = contentParts(message.content)
        .map((part) => part.text ?? "")
        .join("");
      return { role: "user", parts: [{ functionResponse: { name, response: functionResponse(text) } }] };
    }
    default:
      throw new UnsupportedFeatureError(`Message role "${message.role}" is not supported.`, `${path}.role`);
  }
}

/** A tool's output as Gemini's `response` object: a JSON object as is, anything else wrapped. */
function functionResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Plain text output.
  }
  return { content: text };
}

const AUDIO_TYPES = new Map([
  ["wav", "audio/wav"],
  ["mp3", "audio/mp3"],
]);

/** User content parts as Gemini parts: text, and inline bytes for images, audio and files. */
function userParts(parts: ContentPart[], path: string): Part[] {
  const out: Part[] = [];
  parts.forEach((part, j) => {
    const param = `${path}[${j}]`;
    if (part.type === "text") {
      if (part.text) out.push({ text: part.text });
    } else if (part.type === "image_url") {
      const url = imageUrlOf(part);
      const data = parseDataUrl(url);
      if (data) out.push({ inlineData: { mimeType: data.mediaType, data: data.data } });
      else if (isHttpUrl(url)) {
        throw new UnsupportedFeatureError(
          "Gemini needs image bytes: send the image as a base64 data URL.",
          `${param}.image_url`,
          "image_url_not_supported",
        );
      } else
        throw invalidField("An image URL must be a base64 data URL or an http(s) URL.", `${param}.image_url`);
    } else if (part.type === "input_audio" && part.input_audio) {
      const mimeType = AUDIO_TYPES.get(part.input_audio.format) ?? `audio/${part.input_audio.format}`;
      out.push({ inlineData: { mimeType, data: part.input_audio.data } });
    } else if (part.type === "file" && part.file?.file_data) {
      const data = parseDataUrl(part.file.file_data);
      if (!data) throw invalidField("`file_data` must be a base64 data URL.", `${param}.file.file_data`);
      out.push({ inlineData: { mimeType: data.mediaType, data: data.data } });
    } else {
      throw new UnsupportedFeatureError(`Content part "${part.type}" is not supported by Gemini.`, param);
    }
  });
  return out;
}

function functionCallingConfig(body: Record<string, unknown>): Record<string, unknown> | null {
  const choice = readToolChoice(body);
  switch (choice?.mode) {
    case undefined:
      return null;
    case "auto":
      return { mode: "AUTO" };
    case "none":
      return { mode: "NONE" };
    case "required":
      return { mode: "ANY" };
    case "function":
      return { mode: "ANY", allowedFunctionNames: [choice.name] };
  }
}

function buildGenerationConfig(body: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const temperature = numberField(body, "temperature");
  if (temperature !== undefined) config.temperature = temperature;
  const topP = numberField(body, "top_p");
  if (topP !== undefined) config.topP = topP;
  const topK = numberField(body, "top_k");
  if (topK !== undefined) config.topK = topK;
  const maxTokens = readMaxTokens(body);
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  const stop = readStop(body);
  if (stop) config.stopSequences = stop;
  const n = numberField(body, "n");
  if (n !== undefined && n !== 1) config.candidateCount = n;
  const seed = numberField(body, "seed");
  if (seed !== undefined) config.seed = seed;

  const json = readJsonRequest(body);
  if (json) config.responseMimeType = "application/json";
  if (json?.kind === "schema") config.responseJsonSchema = json.schema;

  const budget = readThinkingBudget(body);
  // Thoughts are asked for only with a budget, so answers carry `reasoning_content` on request.
  if (budget !== null)
    config.thinkingConfig =
      budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
  return config;
}
