import { deltaChunk, type FinishReason, parseEventData, usageChunk } from "../common/chat-response";
import { UNREADABLE_STREAM_ERROR } from "../common/error-body";
import {
  MalformedUpstreamError,
  type ProviderError,
  type ResponseContext,
  type StreamTranslator,
  type TokenUsage,
  type TranslatorOptions,
} from "../types";
import { parseAnthropicErrorBody } from "./error";
import { JSON_TOOL_NAME } from "./request";
import { anthropicUsage, finishReasonOf } from "./vocabulary";

type Json = Record<string, unknown>;

/** What one Anthropic content block turns into on the OpenAI side. */
type BlockRole =
  | { kind: "text" }
  | { kind: "thinking" }
  | { kind: "json" }
  | { kind: "tool"; toolIndex: number };

/**
 * Translates Anthropic Messages SSE events into OpenAI chunks. Tool calls are numbered by their
 * position among tool calls (OpenAI's `index`), not by Anthropic's block index, which also counts
 * text and thinking blocks. Usage merges `message_start` (input and cache counts) with
 * `message_delta` (cumulative output, and any counts it repeats). `[DONE]` follows
 * `message_stop` only; an `error` event ends the answer incomplete and is kept for
 * `upstreamError()`. A data line that is not a JSON object throws `MalformedUpstreamError`.
 * Thinking counts in `generatedText` (it is billed). `meterOnly` keeps `content_block_delta`
 * events unread (most of a stream: parsing them is most of a native stream's metering cost) until
 * `generatedText` needs them; a malformed one then goes unnoticed (the client had it as it came).
 * @example const translator = createAnthropicStreamTranslator(ctx); translator.push({ event, data })
 */
export function createAnthropicStreamTranslator(
  ctx: ResponseContext,
  options: TranslatorOptions = {},
): StreamTranslator {
  return new AnthropicStreamTranslator(ctx, options.meterOnly === true);
}

class AnthropicStreamTranslator implements StreamTranslator {
  private readonly blocks = new Map<number, BlockRole>();
  private rawUsage: Json | null = null;
  private nextToolIndex = 0;
  private answeredAsJson = false;
  private finishReason: FinishReason = "stop";
  private usageSent = false;
  private complete = false;
  private failure: ProviderError | null = null;
  private generated = "";
  /** meterOnly: the data of content deltas not read yet, in order. */
  private unread: string[] = [];

  constructor(
    private readonly ctx: ResponseContext,
    private readonly meterOnly: boolean,
  ) {}

  push({ event, data }: { event?: string; data: string }): string[] {
    if (this.complete || this.failure) return [];
    if (this.meterOnly && event === "content_block_delta") {
      this.unread.push(data);
      return [];
    }
    const payload = parseEventData(data);
    if (!payload) throw new MalformedUpstreamError();
    switch (payload.type ?? event) {
      case "message_start":
        this.mergeUsage(((payload.message ?? {}) as { usage?: unknown }).usage);
        return [this.delta({ role: "assistant", content: "" })];
      case "content_block_start":
        return this.onBlockStart(Number(payload.index), (payload.content_block ?? {}) as Json);
      case "content_block_delta":
        return this.onBlockDelta(Number(payload.index), (payload.delta ?? {}) as Json);
      case "message_delta":
        this.onMessageDelta(payload);
        return [];
      case "message_stop":
        this.complete = true;
        return [this.delta({}, this.finishReason), ...this.usagePayloads(), "[DONE]"];
      case "error":
        this.failure = parseAnthropicErrorBody(payload) ?? UNREADABLE_STREAM_ERROR;
        return [];
      default:
        return []; // ping, content_block_stop
    }
  }

  finish(): { payloads: string[]; complete: boolean } {
    if (this.complete) return { payloads: [], complete: true };
    return { payloads: this.usagePayloads(), complete: false };
  }

  usage(): TokenUsage | null {
    return anthropicUsage(this.rawUsage);
  }

  generatedText(): string {
    const unread = this.unread;
    this.unread = [];
    for (const data of unread) {
      const payload = parseEventData(data);
      if (payload) this.onBlockDelta(Number(payload.index), (payload.delta ?? {}) as Json);
    }
    return this.generated;
  }

  upstreamError(): ProviderError | null {
    return this.failure;
  }

  private delta(d: Json, finish: FinishReason | null = null): string {
    return deltaChunk(this.ctx, 0, d, finish);
  }

  /** A delta carrying generated text, which also counts toward the usage estimate. */
  private textDelta(text: string, d: Json): string[] {
    this.generated += text;
    return [this.delta(d)];
  }

  private mergeUsage(raw: unknown): void {
    if (!raw || typeof raw !== "object") return;
    const next = { ...this.rawUsage };
    // message_delta repeats counts as cumulative values, or null where it has nothing new.
    for (const [key, value] of Object.entries(raw)) if (value != null) next[key] = value;
    this.rawUsage = next;
  }

  private usagePayloads(): string[] {
    const known = this.usage();
    if (!known || this.usageSent) return [];
    this.usageSent = true;
    return [usageChunk(this.ctx, known)];
  }

  private onMessageDelta(payload: Json): void {
    this.mergeUsage(payload.usage);
    this.finishReason = finishReasonOf((payload.delta as { stop_reason?: unknown } | undefined)?.stop_reason);
    // The reserved JSON tool answered: to the caller that is text, not a tool call.
    if (this.answeredAsJson && this.nextToolIndex === 0 && this.finishReason === "tool_calls") {
      this.finishReason = "stop";
    }
  }

  private onBlockStart(index: number, block: Json): string[] {
    if (block.type === "text") {
      this.blocks.set(index, { kind: "text" });
      return typeof block.text === "string" && block.text !== ""
        ? this.textDelta(block.text, { content: block.text })
        : [];
    }
    if (block.type === "thinking") {
      this.blocks.set(index, { kind: "thinking" });
      return [];
    }
    if (block.type === "tool_use" && block.name === JSON_TOOL_NAME) {
      this.blocks.set(index, { kind: "json" });
      this.answeredAsJson = true;
      return [];
    }
    if (block.type === "tool_use") {
      const toolIndex = this.nextToolIndex++;
      this.blocks.set(index, { kind: "tool", toolIndex });
      const call = {
        index: toolIndex,
        id: block.id,
        type: "function",
        function: { name: block.name, arguments: "" },
      };
      return [this.delta({ tool_calls: [call] })];
    }
    return []; // redacted thinking, server tools: nothing an OpenAI client can use
  }

  private onBlockDelta(index: number, d: Json): string[] {
    const role = this.blocks.get(index);
    if (!role) return [];
    if (d.type === "text_delta" && role.kind === "text" && typeof d.text === "string" && d.text) {
      return this.textDelta(d.text, { content: d.text });
    }
    if (
      d.type === "thinking_delta" &&
      role.kind === "thinking" &&
      typeof d.thinking === "string" &&
      d.thinking
    ) {
      return this.textDelta(d.thinking, { reasoning_content: d.thinking });
    }
    if (d.type === "input_json_delta" && typeof d.partial_json === "string" && d.partial_json) {
      const json = d.partial_json;
      if (role.kind === "json") return this.textDelta(json, { content: json });
      if (role.kind === "tool") {
        return this.textDelta(json, {
          tool_calls: [{ index: role.toolIndex, function: { arguments: json } }],
        });
      }
    }
    return [];
  }
}
