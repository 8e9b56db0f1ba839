import type { TokenUsage } from "../../providers";
import {
  functionCallItem,
  incompleteReason,
  itemIds,
  messageItem,
  type ResponseFrame,
  reasoningItem,
  responseShell,
  responsesUsage,
} from "./response";

type Json = Record<string, unknown>;

/** Turns the OpenAI chat payloads of one streamed answer into Responses API events. */
export interface ResponsesEventEncoder {
  /** One chat payload (a chunk's JSON text, the usage chunk, or "[DONE]") in; SSE text out, "" for none. */
  push(payload: string, usage: TokenUsage | null): string;
  /** Ends a stream that broke with an `error` event (never `response.completed`). */
  fail(error: { message: string; type: string; code: string | null; param: string | null }): string;
}

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
  extra_content?: unknown;
}

interface Chunk {
  choices?: {
    index?: number;
    delta?: { content?: string | null; reasoning_content?: string | null; tool_calls?: ToolCallDelta[] };
    finish_reason?: unknown;
  }[];
}

/** One output item as it streams: its place, kind and what it gathered. */
interface OpenItem {
  kind: "reasoning" | "message" | "function_call";
  outputIndex: number;
  id: string;
  text: string;
  call?: ToolCallDelta;
  done: boolean;
}

/**
 * SSE in the Responses API's framing: the event name repeats the data's `type`.
 * @example sseEvent({ type: "response.created", sequence_number: 0, response })
 */
export function sseEvent(data: Json): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The encoder for translated `/v1/responses` streams: `response.created` and
 * `response.in_progress` first; reasoning text as a reasoning item's summary deltas, text as a
 * message item's `output_text` deltas, each tool call a `function_call` item with argument deltas;
 * on `[DONE]` every item's done events, then `response.completed` (or `response.incomplete` after
 * a length stop) with the whole response, its usage and cost. Only the first choice is carried.
 * @example const encoder = createResponsesEventEncoder(frame, costOf, onFinal); encoder.push(payload, usage)
 */
export function createResponsesEventEncoder(
  frame: ResponseFrame,
  costOf: (usage: TokenUsage) => number | null,
  onFinal: (response: Json) => void,
): ResponsesEventEncoder {
  return new EventEncoder(frame, costOf, onFinal);
}

class EventEncoder implements ResponsesEventEncoder {
  private sequence = 0;
  private started = false;
  private ended = false;
  private readonly items: OpenItem[] = [];
  /** The reasoning or message item deltas go to now; tool calls stay open until the end. */
  private current: OpenItem | null = null;
  private readonly calls = new Map<number, OpenItem>();
  private finishReason: unknown = null;
  private readonly ids: ReturnType<typeof itemIds>;

  constructor(
    private readonly frame: ResponseFrame,
    private readonly costOf: (usage: TokenUsage) => number | null,
    private readonly onFinal: (response: Json) => void,
  ) {
    this.ids = itemIds(frame.id);
  }

  push(payload: string, usage: TokenUsage | null): string {
    if (this.ended) return "";
    if (payload === "[DONE]") return this.end(usage);
    let chunk: Chunk;
    try {
      chunk = JSON.parse(payload);
    } catch {
      return "";
    }
    let out = this.start();
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta ?? {};
      if (delta.reasoning_content) out += this.textDelta("reasoning", delta.reasoning_content);
      if (delta.content) out += this.textDelta("message", delta.content);
      for (const call of delta.tool_calls ?? []) out += this.toolCallDelta(call);
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    return out;
  }

  fail(error: { message: string; code: string | null; param: string | null }): string {
    if (this.ended) return "";
    this.ended = true;
    const { message, code, param } = error;
    return this.event({ type: "error", code: code ?? "upstream_error", message, param });
  }

  private event(data: Json): string {
    return sseEvent({ ...data, sequence_number: this.sequence++ });
  }

  private start(): string {
    if (this.started) return "";
    this.started = true;
    const response = responseShell(this.frame, "in_progress");
    return (
      this.event({ type: "response.created", response }) +
      this.event({ type: "response.in_progress", response })
    );
  }

  private open(kind: OpenItem["kind"], id: string, call?: ToolCallDelta): OpenItem {
    const item: OpenItem = { kind, outputIndex: this.items.length, id, text: "", call, done: false };
    this.items.push(item);
    return item;
  }

  /** Reasoning or message text: a new item when the kind changes, then its delta. */
  private textDelta(kind: "reasoning" | "message", delta: string): string {
    let out = "";
    let item = this.current;
    if (item?.kind !== kind) {
      out += item ? this.close(item) : "";
      item = this.open(kind, kind === "reasoning" ? this.ids.reasoning : this.ids.message);
      this.current = item;
      out += this.opened(item);
    }
    item.text += delta;
    const at = { item_id: item.id, output_index: item.outputIndex };
    if (kind === "reasoning") {
      return (
        out + this.event({ type: "response.reasoning_summary_text.delta", ...at, summary_index: 0, delta })
      );
    }
    return (
      out + this.event({ type: "response.output_text.delta", ...at, content_index: 0, delta, logprobs: [] })
    );
  }

  /** A tool call's first delta opens its item (closing the text before it); arguments follow. */
  private toolCallDelta(call: ToolCallDelta): string {
    let out = "";
    const index = call.index ?? 0;
    let item = this.calls.get(index);
    if (!item) {
      if (this.current) out += this.close(this.current);
      this.current = null;
      item = this.open("function_call", this.ids.call(index), { ...call });
      this.calls.set(index, item);
      out += this.opened(item);
    } else if (call.extra_content && item.call) {
      item.call.extra_content = call.extra_content;
    }
    const delta = call.function?.arguments;
    if (!delta) return out;
    item.text += delta;
    return (
      out +
      this.event({
        type: "response.function_call_arguments.delta",
        item_id: item.id,
        output_index: item.outputIndex,
        delta,
      })
    );
  }

  /** `output_item.added` and, for text, its part's `added` event. */
  private opened(item: OpenItem): string {
    const out = this.event({
      type: "response.output_item.added",
      output_index: item.outputIndex,
      item: this.itemOf(item, "in_progress", true),
    });
    const at = { item_id: item.id, output_index: item.outputIndex };
    if (item.kind === "reasoning") {
      return (
        out +
        this.event({
          type: "response.reasoning_summary_part.added",
          ...at,
          summary_index: 0,
          part: { type: "summary_text", text: "" },
        })
      );
    }
    if (item.kind === "message") {
      return (
        out +
        this.event({
          type: "response.content_part.added",
          ...at,
          content_index: 0,
          part: { type: "output_text", text: "", annotations: [] },
        })
      );
    }
    return out;
  }

  /** An item's done events: its text or arguments whole, then `output_item.done`. */
  private close(item: OpenItem): string {
    if (item.done) return "";
    item.done = true;
    const at = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    if (item.kind === "reasoning") {
      out += this.event({
        type: "response.reasoning_summary_text.done",
        ...at,
        summary_index: 0,
        text: item.text,
      });
      out += this.event({
        type: "response.reasoning_summary_part.done",
        ...at,
        summary_index: 0,
        part: { type: "summary_text", text: item.text },
      });
    } else if (item.kind === "message") {
      out += this.event({
        type: "response.output_text.done",
        ...at,
        content_index: 0,
        text: item.text,
        logprobs: [],
      });
      out += this.event({
        type: "response.content_part.done",
        ...at,
        content_index: 0,
        part: { type: "output_text", text: item.text, annotations: [] },
      });
    } else {
      out += this.event({
        type: "response.function_call_arguments.done",
        ...at,
        name: item.call?.function?.name ?? "",
        arguments: item.text,
      });
    }
    return (
      out +
      this.event({
        type: "response.output_item.done",
        output_index: item.outputIndex,
        item: this.itemOf(item, "completed", false),
      })
    );
  }

  private itemOf(item: OpenItem, status: string, empty: boolean): Json {
    const text = empty ? "" : item.text;
    if (item.kind === "reasoning")
      return empty ? { type: "reasoning", id: item.id, summary: [] } : reasoningItem(item.id, text);
    if (item.kind === "message")
      return empty
        ? { ...messageItem(item.id, "", status), content: [] }
        : messageItem(item.id, text, status);
    return functionCallItem(item.id, item.call ?? {}, text, status);
  }

  /** `[DONE]`: every item done, then the final response with usage and cost. */
  private end(usage: TokenUsage | null): string {
    let out = this.start();
    for (const item of this.items) out += this.close(item);
    this.ended = true;
    const reason = incompleteReason(this.finishReason);
    const response: Json = {
      ...responseShell(this.frame, reason ? "incomplete" : "completed"),
      incomplete_details: reason ? { reason } : null,
      output: this.items.map((item) => this.itemOf(item, "completed", false)),
      usage: usage ? responsesUsage(usage, this.costOf(usage)) : null,
    };
    this.onFinal(response);
    return out + this.event({ type: reason ? "response.incomplete" : "response.completed", response });
  }
}
