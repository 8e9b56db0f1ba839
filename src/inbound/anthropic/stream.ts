import { anthropicUsageOf, stopReasonOf } from "../../providers/anthropic";
import { openAIErrorToAnthropic } from "./error";
import { messageIdOf } from "./response";

type Json = Record<string, unknown>;

/** Turns the OpenAI payloads of one streamed answer into Anthropic Messages SSE events. */
export interface AnthropicEventEncoder {
  /** One OpenAI payload (a chunk's JSON text, the usage chunk, or "[DONE]") in; SSE text out, "" for none. */
  push(payload: string): string;
  /** Ends a stream that broke: closes the open block and sends an Anthropic `error` event. */
  fail(status: number, openaiErrorBody: unknown): string;
}

interface ChunkDelta {
  content?: string | null;
  tool_calls?: ToolCallDelta[];
}

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface Chunk {
  id?: unknown;
  choices?: { index?: number; delta?: ChunkDelta; finish_reason?: unknown }[];
  usage?: unknown;
}

/** One SSE event in Anthropic's framing: the event name repeats the data's `type`. */
function sse(data: Json): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The encoder for `POST /v1/messages` streams: `message_start` on the first payload, one
 * content block per text run or tool call (tool arguments as `input_json_delta`), and on
 * `[DONE]` the `message_delta` with the stop reason and the usage from OpenAI's usage chunk
 * (input counts too, which OpenAI only reports at the end), then `message_stop`. Only the first
 * choice is carried; reasoning text is not (see `openAIResponseToAnthropic`).
 * @example const encoder = createAnthropicEventEncoder("claude-sonnet-4-5"); encoder.push(payload)
 */
export function createAnthropicEventEncoder(requestedModel: string): AnthropicEventEncoder {
  return new EventEncoder(requestedModel);
}

class EventEncoder implements AnthropicEventEncoder {
  private started = false;
  private ended = false;
  private blockCount = 0;
  private open: { kind: "text" | "tool"; index: number } | null = null;
  /** Anthropic block index of each OpenAI tool call index. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason = "end_turn";
  private usage: unknown = null;

  constructor(private readonly requestedModel: string) {}

  push(payload: string): string {
    if (this.ended) return "";
    if (payload === "[DONE]") return this.end();
    let chunk: Chunk;
    try {
      chunk = JSON.parse(payload);
    } catch {
      return "";
    }
    let out = this.start(chunk.id);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      if (choice.delta) out += this.onDelta(choice.delta);
      if (choice.finish_reason) this.stopReason = stopReasonOf(choice.finish_reason);
    }
    return out;
  }

  fail(status: number, openaiErrorBody: unknown): string {
    if (this.ended) return "";
    this.ended = true;
    return this.closeBlock() + sse(openAIErrorToAnthropic(status, openaiErrorBody));
  }

  /** `message_start`, once, before anything else. */
  private start(id: unknown): string {
    if (this.started) return "";
    this.started = true;
    const message = {
      id: messageIdOf(id),
      type: "message",
      role: "assistant",
      model: this.requestedModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // OpenAI reports input tokens only at the end; message_delta carries them.
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return sse({ type: "message_start", message });
  }

  private closeBlock(): string {
    if (!this.open) return "";
    const out = sse({ type: "content_block_stop", index: this.open.index });
    this.open = null;
    return out;
  }

  private openBlock(kind: "text" | "tool", block: Json): string {
    const out = this.closeBlock();
    this.open = { kind, index: this.blockCount++ };
    return out + sse({ type: "content_block_start", index: this.open.index, content_block: block });
  }

  private onDelta(delta: ChunkDelta): string {
    let out = "";
    if (typeof delta.content === "string" && delta.content !== "") {
      if (this.open?.kind !== "text") out += this.openBlock("text", { type: "text", text: "" });
      out += sse({
        type: "content_block_delta",
        index: this.open?.index,
        delta: { type: "text_delta", text: delta.content },
      });
    }
    for (const call of delta.tool_calls ?? []) out += this.onToolCall(call);
    return out;
  }

  /** A tool call's first delta opens its `tool_use` block; its arguments go to that block. */
  private onToolCall(call: ToolCallDelta): string {
    let out = "";
    const toolIndex = call.index ?? 0;
    let blockIndex = this.toolBlocks.get(toolIndex);
    if (blockIndex === undefined) {
      const block = {
        type: "tool_use",
        id: call.id ?? `toolu_${toolIndex}`,
        name: call.function?.name ?? "",
        input: {},
      };
      out += this.openBlock("tool", block);
      blockIndex = this.open?.index ?? 0;
      this.toolBlocks.set(toolIndex, blockIndex);
    }
    const args = call.function?.arguments;
    if (args) {
      out += sse({
        type: "content_block_delta",
        index: blockIndex,
        delta: { type: "input_json_delta", partial_json: args },
      });
    }
    return out;
  }

  /** `[DONE]`: the stop reason and the usage, then `message_stop`. */
  private end(): string {
    this.ended = true;
    let out = this.start(undefined) + this.closeBlock();
    out += sse({
      type: "message_delta",
      delta: { stop_reason: this.stopReason, stop_sequence: null },
      usage: anthropicUsageOf(this.usage),
    });
    return out + sse({ type: "message_stop" });
  }
}
