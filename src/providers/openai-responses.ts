import { UNREADABLE_STREAM_ERROR } from "./common/error-body";
import { MalformedUpstreamError, type ProviderError, type StreamTranslator, type TokenUsage } from "./types";

type Json = Record<string, unknown>;

/** Events that end a Responses stream with an answer (the caller gets the whole of it). */
const FINAL_EVENTS = new Set(["response.completed", "response.incomplete"]);

/**
 * Reads a native OpenAI Responses API stream as it passes: every event goes on as the upstream
 * wrote it (the payload is the event's JSON, which names its own `type`). Usage comes from the
 * final `response.completed` / `response.incomplete` event, which is also what makes the answer
 * complete; an `error` event or `response.failed` ends it with the provider's error.
 * @example const reader = createResponsesStreamReader(); reader.push({ event: "response.completed", data })
 */
export function createResponsesStreamReader(): StreamTranslator {
  let usage: TokenUsage | null = null;
  let complete = false;
  let failure: ProviderError | null = null;
  let text = "";
  return {
    push({ data }) {
      if (failure || complete) return [];
      const event = parseEvent(data);
      const type = event.type;
      if (type === "response.output_text.delta" || type === "response.function_call_arguments.delta") {
        text += typeof event.delta === "string" ? event.delta : "";
      } else if (type === "error" || type === "response.failed") {
        failure = responsesErrorOf(event);
        return [];
      } else if (typeof type === "string" && FINAL_EVENTS.has(type)) {
        usage = readResponsesUsage((event.response as Json | undefined)?.usage) ?? usage;
        complete = true;
      }
      return [data];
    },
    finish: () => ({ payloads: [], complete }),
    usage: () => usage,
    generatedText: () => text,
    upstreamError: () => failure,
  };
}

function parseEvent(data: string): Json {
  try {
    const event = JSON.parse(data) as unknown;
    if (event && typeof event === "object" && !Array.isArray(event)) return event as Json;
  } catch {
    // Reported below as malformed.
  }
  throw new MalformedUpstreamError();
}

/**
 * The provider's error in a Responses stream: an `error` event (`{type, code, message, param}`)
 * or `response.failed` (its `response.error`).
 */
function responsesErrorOf(event: Json): ProviderError {
  const source =
    event.type === "error" ? event : ((event.response as Json | undefined)?.error as Json | undefined);
  const message = source?.message;
  if (typeof message !== "string" || message === "") return UNREADABLE_STREAM_ERROR;
  const code = source?.code;
  const param = source?.param;
  return {
    message,
    type: "api_error",
    code: typeof code === "string" ? code : null,
    param: typeof param === "string" ? param : null,
  };
}

/**
 * Normalises a Responses API usage object (`input_tokens` with `input_tokens_details.cached_tokens`,
 * `output_tokens` with `output_tokens_details.reasoning_tokens`) to the gateway's terms.
 * @example readResponsesUsage({ input_tokens: 10, output_tokens: 5, input_tokens_details: { cached_tokens: 4 } })
 */
export function readResponsesUsage(raw: unknown): TokenUsage | null {
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Json;
  const input = (u.input_tokens_details ?? {}) as Json;
  const output = (u.output_tokens_details ?? {}) as Json;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    promptTokens: num(u.input_tokens),
    completionTokens: num(u.output_tokens),
    cachedReadTokens: num(input.cached_tokens),
    cacheWriteTokens: 0,
    reasoningTokens: num(output.reasoning_tokens),
  };
}
