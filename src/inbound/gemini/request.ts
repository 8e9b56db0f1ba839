import { UnsupportedFeatureError } from "../../providers/common/errors";
import type { EmbedContentBody, GeminiContent, GenerateContentBody } from "./schema";

type Json = Record<string, unknown>;

/**
 * A Gemini generateContent request as an OpenAI chat body, for targets that are not Gemini:
 * `systemInstruction` becomes a system message, `model` turns assistant messages (function calls
 * as tool calls), function responses tool messages, `generationConfig` the sampling fields.
 * Thought parts are dropped (they are Gemini's own); non-image inline data is refused.
 * @example geminiRequestToOpenAI("gpt-4o-mini", { contents: [{ role: "user", parts: [{ text: "Hi" }] }] }, false)
 */
export function geminiRequestToOpenAI(model: string, body: GenerateContentBody, stream: boolean): Json {
  const messages: Json[] = [];
  const system = textOf(body.systemInstruction);
  if (system) messages.push({ role: "system", content: system });
  const calls = new CallIds();
  body.contents.forEach((content, i) => {
    messages.push(...(content.role === "model" ? modelTurn(content, calls) : userTurn(content, i, calls)));
  });
  const out: Json = { model, messages, ...sampling(body.generationConfig) };
  const tools = (body.tools ?? []).flatMap((tool) => tool.functionDeclarations ?? []);
  if (tools.length > 0) {
    out.tools = tools.map((fn) => ({
      type: "function",
      function: {
        name: fn.name,
        ...(fn.description ? { description: fn.description } : {}),
        parameters:
          fn.parametersJsonSchema ?? lowerTypes(fn.parameters ?? { type: "object", properties: {} }),
      },
    }));
    const choice = toolChoice(body.toolConfig?.functionCallingConfig);
    if (choice) out.tool_choice = choice;
  }
  if (stream) Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  return out;
}

/**
 * Embedding requests as one OpenAI embeddings body: each request's text is one input.
 * @example geminiEmbeddingsToOpenAI("text-embedding-3-small", [{ content: { parts: [{ text: "hi" }] } }])
 */
export function geminiEmbeddingsToOpenAI(model: string, requests: EmbedContentBody[], single: boolean): Json {
  const dims = requests[0]?.outputDimensionality;
  const input = requests.map((request) => textOf(request.content));
  return { model, input: single ? (input[0] ?? "") : input, ...(dims ? { dimensions: dims } : {}) };
}

/** The text of a content's parts, joined. */
export function textOf(content: GeminiContent | undefined): string {
  return (content?.parts ?? [])
    .flatMap((part) => (typeof part.text === "string" && !part.thought ? [part.text] : []))
    .join("");
}

/** Call ids for function calls (Gemini often gives none), matched to responses by name, in order. */
class CallIds {
  private readonly open = new Map<string, string[]>();
  private next = 0;

  issue(name: string, id: unknown): string {
    const callId = typeof id === "string" && id ? id : `call_gemini_${this.next++}`;
    this.open.set(name, [...(this.open.get(name) ?? []), callId]);
    return callId;
  }

  answer(name: string, id: unknown): string {
    if (typeof id === "string" && id) return id;
    const queue = this.open.get(name) ?? [];
    return queue.shift() ?? `call_gemini_${this.next++}`;
  }
}

function modelTurn(content: GeminiContent, calls: CallIds): Json[] {
  const text = textOf(content);
  const toolCalls = content.parts.flatMap((part) =>
    part.functionCall
      ? [
          {
            id: calls.issue(part.functionCall.name, part.functionCall.id),
            type: "function",
            function: {
              name: part.functionCall.name,
              arguments: JSON.stringify(part.functionCall.args ?? {}),
            },
          },
        ]
      : [],
  );
  if (!text && toolCalls.length === 0) return [];
  return [
    { role: "assistant", content: text || null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
  ];
}

function userTurn(content: GeminiContent, i: number, calls: CallIds): Json[] {
  const out: Json[] = [];
  const parts: Json[] = [];
  content.parts.forEach((part, j) => {
    if (part.functionResponse) {
      const { name, id, response } = part.functionResponse;
      out.push({
        role: "tool",
        tool_call_id: calls.answer(name, id),
        content: JSON.stringify(response ?? {}),
      });
    } else if (typeof part.text === "string" && !part.thought) {
      parts.push({ type: "text", text: part.text });
    } else if (part.inlineData) {
      parts.push(inlinePart(part.inlineData, `contents[${i}].parts[${j}].inlineData`));
    }
  });
  if (parts.length > 0) out.push({ role: "user", content: parts });
  return out;
}

function inlinePart(data: { mimeType: string; data: string }, param: string): Json {
  if (data.mimeType.startsWith("image/")) {
    return { type: "image_url", image_url: { url: `data:${data.mimeType};base64,${data.data}` } };
  }
  if (data.mimeType === "application/pdf") {
    return {
      type: "file",
      file: { filename: "document.pdf", file_data: `data:application/pdf;base64,${data.data}` },
    };
  }
  throw new UnsupportedFeatureError(`Inline data of type "${data.mimeType}" is not supported here.`, param);
}

/** generationConfig as OpenAI's sampling fields. */
function sampling(config: GenerateContentBody["generationConfig"]): Json {
  if (!config) return {};
  const out: Json = {};
  if (config.temperature !== undefined) out.temperature = config.temperature;
  if (config.topP !== undefined) out.top_p = config.topP;
  if (config.maxOutputTokens !== undefined) out.max_tokens = config.maxOutputTokens;
  if (config.candidateCount !== undefined) out.n = config.candidateCount;
  if (config.stopSequences?.length) out.stop = config.stopSequences;
  if (config.presencePenalty !== undefined) out.presence_penalty = config.presencePenalty;
  if (config.frequencyPenalty !== undefined) out.frequency_penalty = config.frequencyPenalty;
  if (config.seed !== undefined) out.seed = config.seed;
  const schema =
    config.responseJsonSchema ?? (config.responseSchema ? lowerTypes(config.responseSchema) : undefined);
  if (schema) out.response_format = { type: "json_schema", json_schema: { name: "response", schema } };
  else if (config.responseMimeType === "application/json") out.response_format = { type: "json_object" };
  return out;
}

/** Gemini's function-calling mode as OpenAI's tool_choice. */
function toolChoice(config: { mode?: string; allowedFunctionNames?: string[] } | undefined): unknown {
  if (config?.mode === "NONE") return "none";
  if (config?.mode !== "ANY") return undefined;
  const only = config.allowedFunctionNames?.length === 1 ? config.allowedFunctionNames[0] : undefined;
  return only ? { type: "function", function: { name: only } } : "required";
}

/** Gemini's OpenAPI schemas name types in capitals (`OBJECT`); JSON Schema wants them lower-case. */
function lowerTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerTypes);
  if (schema === null || typeof schema !== "object") return schema;
  // fromEntries defines each key as its own (a caller's "__proto__" stays a plain field).
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === "type" && typeof value === "string" ? value.toLowerCase() : lowerTypes(value),
    ]),
  );
}
