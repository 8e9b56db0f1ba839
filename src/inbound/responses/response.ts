import { readOpenAIUsage, type TokenUsage } from "../../providers";
import type { ResponsesBody } from "./schema";

type Json = Record<string, unknown>;

/** What every Response object of one request shares: its id, time, model and the request's echo. */
export interface ResponseFrame {
  /** `resp_` + the request id's hex: the gateway's own, whichever provider answered. */
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model the caller asked for. */
  model: string;
  request: ResponsesBody;
}

/**
 * The gateway's response id for a request id (a UUID): `resp_` and its 32 hex digits.
 * @example responseIdOf("0b5e...-...") // "resp_0b5e..."
 */
export function responseIdOf(requestId: string): string {
  return `resp_${requestId.replaceAll("-", "")}`;
}

/**
 * A Response object with the request's settings echoed (as OpenAI echoes them), before its output
 * and usage are known.
 * @example responseShell(frame, "in_progress")
 */
export function responseShell(frame: ResponseFrame, status: string): Json {
  const r = frame.request;
  return {
    id: frame.id,
    object: "response",
    created_at: frame.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    metadata: r.metadata ?? {},
    model: frame.model,
    output: [],
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: r.previous_response_id ?? null,
    reasoning: { effort: r.reasoning?.effort ?? null, summary: r.reasoning?.summary ?? null },
    store: r.store !== false,
    temperature: r.temperature ?? 1,
    text: { format: r.text?.format ?? { type: "text" } },
    tool_choice: r.tool_choice ?? "auto",
    tools: r.tools ?? [],
    top_p: r.top_p ?? 1,
    truncation: "disabled",
    usage: null,
    user: r.user ?? null,
  };
}

/**
 * Token usage in the Responses API's terms, with its cost in USD (null when unpriced).
 * @example responsesUsage({ promptTokens: 10, completionTokens: 5, cachedReadTokens: 4, cacheWriteTokens: 0, reasoningTokens: 2 }, 0.0001)
 */
export function responsesUsage(usage: TokenUsage, cost: number | null): Json {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedReadTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.promptTokens + usage.completionTokens,
    cost,
  };
}

/** Why an answer stopped short, in the Responses API's words; null for a complete one. */
export function incompleteReason(finishReason: unknown): string | null {
  if (finishReason === "length") return "max_output_tokens";
  if (finishReason === "content_filter") return "content_filter";
  return null;
}

/** Output item ids of one response, derived from its id so they are unique and stable. */
export function itemIds(responseId: string) {
  const hex = responseId.slice("resp_".length);
  return {
    reasoning: `rs_${hex}`,
    message: `msg_${hex}`,
    call: (index: number) => `fc_${hex}_${index}`,
  };
}

interface ChatMessage {
  content?: unknown;
  refusal?: unknown;
  reasoning_content?: unknown;
  tool_calls?: { id?: string; function?: { name?: string; arguments?: string }; extra_content?: unknown }[];
}

/**
 * A `chat.completion` (the first choice) as a Response: reasoning as a reasoning item with its
 * text as the summary, the text as a message item, each tool call a `function_call` item; a
 * length or content-filter stop makes it `incomplete`. `usage.cost` is carried over.
 * @example chatCompletionToResponse(completion, frame)
 */
export function chatCompletionToResponse(chat: Json, frame: ResponseFrame): Json {
  const choice = (chat.choices as { message?: ChatMessage; finish_reason?: unknown }[] | undefined)?.[0];
  const message = choice?.message ?? {};
  const ids = itemIds(frame.id);
  const output: Json[] = [];
  if (typeof message.reasoning_content === "string" && message.reasoning_content !== "") {
    output.push(reasoningItem(ids.reasoning, message.reasoning_content));
  }
  if (typeof message.content === "string" && message.content !== "") {
    output.push(messageItem(ids.message, message.content, "completed"));
  } else if (typeof message.refusal === "string" && message.refusal !== "") {
    output.push({
      ...messageItem(ids.message, "", "completed"),
      content: [{ type: "refusal", refusal: message.refusal }],
    });
  }
  (message.tool_calls ?? []).forEach((call, i) => {
    output.push(functionCallItem(ids.call(i), call, call.function?.arguments ?? "", "completed"));
  });
  const reason = incompleteReason(choice?.finish_reason);
  const usage = readOpenAIUsage(chat.usage);
  const cost = (chat.usage as Json | undefined)?.cost;
  return {
    ...responseShell(frame, reason ? "incomplete" : "completed"),
    incomplete_details: reason ? { reason } : null,
    output,
    usage: usage ? responsesUsage(usage, typeof cost === "number" ? cost : null) : null,
  };
}

/** A reasoning item whose summary is the reasoning text the provider gave. */
export function reasoningItem(id: string, text: string): Json {
  return { type: "reasoning", id, summary: [{ type: "summary_text", text }] };
}

/** An assistant message item with one `output_text` part. */
export function messageItem(id: string, text: string, status: string): Json {
  return {
    type: "message",
    id,
    status,
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
  };
}

/** A `function_call` item; a Gemini thought signature rides along for the next turn. */
export function functionCallItem(
  id: string,
  call: { id?: string; function?: { name?: string }; extra_content?: unknown },
  args: string,
  status: string,
): Json {
  return {
    type: "function_call",
    id,
    call_id: call.id ?? id,
    name: call.function?.name ?? "",
    arguments: args,
    status,
    ...(call.extra_content ? { extra_content: call.extra_content } : {}),
  };
}
