import { deltaChunk, type FinishReason, parseEventData, usageChunk } from "../common/chat-response";
import { UNREADABLE_STREAM_ERROR } from "../common/errors";
import {
  MalformedUpstreamError,
  type ProviderError,
  type ResponseContext,
  type StreamTranslator,
  type TokenUsage,
} from "../types";
import { parseAnthropicErrorBody } from "./error";
import { JSON_TOOL_NAME } from "./request";
import { anthropicUsage, finishReasonOf } from "./response";

/** What one Anthropic content block turns into on the OpenAI side. */
type BlockRole =
  | { kind: "text" }
  | { kind: "thinking" }
  | { kind: "json" }
  | { kind: "tool"; toolIndex: number };

/** A stream translator that can also say why the upstream failed mid-stream. */
export interface AnthropicStreamTranslator extends StreamTranslator {
  /** The `error` event the upstream sent, as an OpenAI-shaped error, or null. */
  upstreamError(): ProviderError | null;
}

/**
 * Translates Anthropic Messages SSE events into OpenAI chunks. Tool calls are numbered by their
 * position among tool calls (OpenAI's `index`), not by Anthropic's block index, which also counts
 * text and thinking blocks. Usage merges `message_start` (input and cache counts) with
 * `message_delta` (cumulative output, and any counts it repeats). `[DONE]` follows
 * `message_stop` only; an `error` event ends the answer incomplete. A data line that is not a
 * JSON object throws `MalformedUpstreamError`. Thinking counts in `generatedText` (it is billed).
 */
export function createAnthropicStreamTranslator(ctx: ResponseContext): AnthropicStreamTranslator {
  const blocks = new Map<number, BlockRole>();
  let rawUsage: Record<string, unknown> | null = null;
  let nextToolIndex = 0;
  let answeredAsJson = false;
  let finishReason: FinishReason = "stop";
  let usageSent = false;
  let complete = false;
  let failure: ProviderError | null = null;
  let generated = "";

  const usage = (): TokenUsage | null => anthropicUsage(rawUsage);
  const delta = (d: Record<string, unknown>, finish: FinishReason | null = null) =>
    deltaChunk(ctx, 0, d, finish);
  /** A delta carrying generated text, which also counts toward the usage estimate. */
  const textDelta = (text: string, d: Record<string, unknown>) => {
    generated += text;
    return [delta(d)];
  };
  const mergeUsage = (raw: unknown) => {
    if (!raw || typeof raw !== "object") return;
    const next = { ...rawUsage };
    // message_delta repeats counts as cumulative values, or null where it has nothing new.
    for (const [key, value] of Object.entries(raw)) if (value != null) next[key] = value;
    rawUsage = next;
  };
  const usagePayloads = (): string[] => {
    const known = usage();
    if (!known || usageSent) return [];
    usageSent = true;
    return [usageChunk(ctx, known)];
  };

  function onBlockStart(index: number, block: Record<string, unknown>): string[] {
    if (block.type === "text") {
      blocks.set(index, { kind: "text" });
      return typeof block.text === "string" && block.text !== ""
        ? textDelta(block.text, { content: block.text })
        : [];
    }
    if (block.type === "thinking") {
      blocks.set(index, { kind: "thinking" });
      return [];
    }
    if (block.type === "tool_use" && block.name === JSON_TOOL_NAME) {
      blocks.set(index, { kind: "json" });
      answeredAsJson = true;
      return [];
    }
    if (block.type === "tool_use") {
      const toolIndex = nextToolIndex++;
      blocks.set(index, { kind: "tool", toolIndex });
      const call = {
        index: toolIndex,
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: "" },
      };
      return [delta({ tool_calls: [call] })];
    }
    return []; // redacted thinking, server tools: nothing an OpenAI client can use
  }

  function onBlockDelta(index: number, d: Record<string, unknown>): string[] {
    const role = blocks.get(index);
    if (!role) return [];
    if (d.type === "text_delta" && role.kind === "text" && typeof d.text === "string" && d.text) {
      return textDelta(d.text, { content: d.text });
    }
    if (
      d.type === "thinking_delta" &&
      role.kind === "thinking" &&
      typeof d.thinking === "string" &&
      d.thinking
    ) {
      return textDelta(d.thinking, { reasoning_content: d.thinking });
    }
    if (d.type === "input_json_delta" && typeof d.partial_json === "string" && d.partial_json) {
      const json = d.partial_json;
      if (role.kind === "json") return textDelta(json, { content: json });
      if (role.kind === "tool") {
        return textDelta(json, { tool_calls: [{ index: role.toolIndex, function: { arguments: json } }] });
      }
    }
    return [];
  }

  return {
    push({ event, data }) {
      if (complete || failure) return [];
      const payload = parseEventData(data);
      if (!payload) throw new MalformedUpstreamError();
      switch (payload.type ?? event) {
        case "message_start": {
          const message = (payload.message ?? {}) as { usage?: unknown };
          mergeUsage(message.usage);
          return [delta({ role: "assistant", content: "" })];
        }
        case "content_block_start":
          return onBlockStart(
            Number(payload.index),
            (payload.content_block ?? {}) as Record<string, unknown>,
          );
        case "content_block_delta":
          return onBlockDelta(Number(payload.index), (payload.delta ?? {}) as Record<string, unknown>);
        case "message_delta": {
          mergeUsage(payload.usage);
          const stopReason = (payload.delta as { stop_reason?: unknown } | undefined)?.stop_reason;
          finishReason = finishReasonOf(stopReason);
          if (answeredAsJson && nextToolIndex === 0 && finishReason === "tool_calls") finishReason = "stop";
          return [];
        }
        case "message_stop":
          complete = true;
          return [delta({}, finishReason), ...usagePayloads(), "[DONE]"];
        case "error":
          failure = parseAnthropicErrorBody(payload) ?? UNREADABLE_STREAM_ERROR;
          return [];
        default:
          return []; // ping, content_block_stop
      }
    },
    finish() {
      if (complete) return { payloads: [], complete: true };
      return { payloads: usagePayloads(), complete: false };
    },
    usage,
    generatedText: () => generated,
    upstreamError: () => failure,
  };
}
