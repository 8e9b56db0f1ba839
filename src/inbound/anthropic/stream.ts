import { openAIErrorToAnthropic } from "./error";
import { anthropicUsageOf, messageIdOf, stopReasonOf } from "./response";

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
  tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
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
  let started = false;
  let ended = false;
  let blockCount = 0;
  let open: { kind: "text" | "tool"; index: number } | null = null;
  const toolBlocks = new Map<number, number>();
  let stopReason = "end_turn";
  let usage: unknown = null;

  function start(id: unknown): string {
    if (started) return "";
    started = true;
    const message = {
      id: messageIdOf(id),
      type: "message",
      role: "assistant",
      model: requestedModel,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // OpenAI reports input tokens only at the end; message_delta carries them.
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return sse({ type: "message_start", message });
  }

  function closeBlock(): string {
    if (!open) return "";
    const out = sse({ type: "content_block_stop", index: open.index });
    open = null;
    return out;
  }

  function openBlock(kind: "text" | "tool", block: Json): string {
    const out = closeBlock();
    open = { kind, index: blockCount++ };
    return out + sse({ type: "content_block_start", index: open.index, content_block: block });
  }

  function onDelta(delta: ChunkDelta): string {
    let out = "";
    if (typeof delta.content === "string" && delta.content !== "") {
      if (open?.kind !== "text") out += openBlock("text", { type: "text", text: "" });
      out += sse({
        type: "content_block_delta",
        index: open?.index,
        delta: { type: "text_delta", text: delta.content },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      const toolIndex = call.index ?? 0;
      let blockIndex = toolBlocks.get(toolIndex);
      if (blockIndex === undefined) {
        const block = {
          type: "tool_use",
          id: call.id ?? `toolu_${toolIndex}`,
          name: call.function?.name ?? "",
          input: {},
        };
        out += openBlock("tool", block);
        blockIndex = open?.index ?? 0;
        toolBlocks.set(toolIndex, blockIndex);
      }
      const args = call.function?.arguments;
      if (args) {
        out += sse({
          type: "content_block_delta",
          index: blockIndex,
          delta: { type: "input_json_delta", partial_json: args },
        });
      }
    }
    return out;
  }

  function end(): string {
    ended = true;
    let out = start(undefined) + closeBlock();
    out += sse({
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: anthropicUsageOf(usage),
    });
    return out + sse({ type: "message_stop" });
  }

  return {
    push(payload) {
      if (ended) return "";
      if (payload === "[DONE]") return end();
      let chunk: {
        id?: unknown;
        choices?: { index?: number; delta?: ChunkDelta; finish_reason?: unknown }[];
        usage?: unknown;
      };
      try {
        chunk = JSON.parse(payload);
      } catch {
        return "";
      }
      let out = start(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices ?? []) {
        if ((choice.index ?? 0) !== 0) continue;
        if (choice.delta) out += onDelta(choice.delta);
        if (choice.finish_reason) stopReason = stopReasonOf(choice.finish_reason);
      }
      return out;
    },
    fail(status, openaiErrorBody) {
      if (ended) return "";
      ended = true;
      return closeBlock() + sse(openAIErrorToAnthropic(status, openaiErrorBody));
    },
  };
}
