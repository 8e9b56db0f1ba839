import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { OpenAIErrorBody } from "../errors";
import { MalformedUpstreamError, type StreamTranslator, type TokenUsage } from "../providers/types";
import { IdleWatchdog } from "./idle-watchdog";

const encoder = new TextEncoder();

/** How a relayed stream ended, reported once. */
export interface StreamEnd {
  /** The upstream finished its answer (e.g. `[DONE]`, `message_stop`). */
  complete: boolean;
  /** The client went away before the end. */
  cancelled: boolean;
  /** Why the stream was cut short, when it was. */
  errorCode:
    | "upstream_stream_interrupted"
    | "upstream_idle_timeout"
    | "upstream_malformed_chunk"
    | "upstream_response_too_large"
    | null;
}

/** How the client's stream is written: OpenAI SSE, or Anthropic events on /v1/messages. */
export interface StreamFormat {
  /**
   * Frames one OpenAI payload for the client (SSE text), possibly rewritten (the usage chunk with
   * its cost), or null to drop it (the usage chunk the caller did not ask for).
   */
  frame(payload: string, usage: TokenUsage | null): string | null;
  /** The terminal event of a stream cut short. */
  fail(error: OpenAIErrorBody): string;
}

export interface RelayOptions {
  translator: StreamTranslator;
  format: StreamFormat;
  /** Longest silence between upstream chunks before the stream is cut. */
  idleTimeoutMs: number;
  /** Most bytes read without completing an event: bounds the parser's buffer (an endless line). */
  maxEventBytes: number;
  /** Aborts the upstream request (client gone, timeout). */
  abortUpstream: () => void;
  onEnd: (end: StreamEnd) => void;
}

/** The upstream failed before anything reached the client: safe to fall back to another target. */
export class StreamStartError extends Error {
  constructor(
    readonly code:
      | "upstream_empty_stream"
      | "upstream_malformed_chunk"
      | "upstream_stream_interrupted"
      | "upstream_response_too_large",
  ) {
    super(code);
    this.name = "StreamStartError";
  }
}

const ERRORS: Record<NonNullable<StreamEnd["errorCode"]>, string> = {
  upstream_stream_interrupted: "The upstream connection ended before the answer was complete.",
  upstream_idle_timeout: "The upstream stopped sending data before the answer was complete.",
  upstream_malformed_chunk: "The upstream sent a malformed stream event.",
  upstream_response_too_large: "The upstream sent a stream event larger than the gateway accepts.",
};

/**
 * Relays an upstream SSE body to the client chunk by chunk: each upstream read is parsed,
 * translated and written at once, and the next read waits until the client took it (no buffering
 * beyond one read). Resolves when the first bytes for the client exist, so a failure before that
 * can still fall back; afterwards a failure ends the stream with an OpenAI-shaped error event
 * instead of `[DONE]`.
 *
 * The client's stream is a native IdentityTransformStream written to from here: a JS
 * ReadableStream pulled by the runtime costs ~8 us more CPU per relayed chunk in workerd.
 */
export async function openRelay(
  upstream: ReadableStream<Uint8Array>,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  // An idle upstream is cancelled: the pending read then settles and readMore reports "idle".
  const watchdog = new IdleWatchdog(options.idleTimeoutMs, () => {
    reader.cancel().catch(() => {});
  });
  /** SSE text framed for the client, not yet handed over: encoded once per write, not per event. */
  let pending = "";
  let malformed = false;
  /** Set once more than maxEventBytes arrived without an event completing. */
  let oversized = false;
  /** Bytes read since the last complete event (what the parser may be holding). */
  let bytesSinceEvent = 0;
  let eventSeen = false;
  let ended = false;
  /** Set once the upstream body ended: whether its answer was complete. */
  let upstreamComplete: boolean | null = null;

  const parser = createParser({
    onEvent(event: EventSourceMessage) {
      eventSeen = true;
      if (malformed) return;
      try {
        for (const payload of options.translator.push({ event: event.event, data: event.data }))
          emit(payload);
      } catch (err) {
        if (!(err instanceof MalformedUpstreamError)) throw err;
        malformed = true;
      }
    },
  });

  function emit(payload: string): void {
    const framed = options.format.frame(payload, options.translator.usage());
    if (framed) pending += framed;
  }

  function end(result: StreamEnd): void {
    watchdog.stop();
    if (ended) return;
    ended = true;
    options.onEnd(result);
  }

  /** One upstream read, watched for silence; "idle" when the watchdog cut it short. */
  async function read(): Promise<ReadableStreamReadResult<Uint8Array> | "idle"> {
    watchdog.begin();
    try {
      const next = await reader.read();
      return watchdog.fired ? "idle" : next;
    } catch (err) {
      if (watchdog.fired) return "idle";
      throw err;
    } finally {
      watchdog.end();
    }
  }

  /** Reads upstream until there is output, the upstream ends, or it goes silent too long. */
  async function readMore(): Promise<"data" | "done" | "idle" | "error"> {
    if (upstreamComplete !== null) return "done";
    try {
      while (pending.length === 0 && !malformed && !oversized) {
        const next = await read();
        if (next === "idle") return "idle";
        if (next.done) {
          parser.feed(decoder.decode());
          const { payloads, complete } = options.translator.finish();
          for (const payload of payloads) emit(payload);
          upstreamComplete = complete;
          return "done";
        }
        eventSeen = false;
        parser.feed(decoder.decode(next.value, { stream: true }));
        bytesSinceEvent = eventSeen ? 0 : bytesSinceEvent + next.value.byteLength;
        if (bytesSinceEvent > options.maxEventBytes) oversized = true;
      }
    } catch {
      return "error";
    }
    return "data";
  }

  // Before the first byte: any failure is the caller's to retry elsewhere.
  const first = await readMore();
  if (oversized && pending.length === 0) {
    watchdog.stop();
    options.abortUpstream();
    throw new StreamStartError("upstream_response_too_large");
  }
  if (first === "error" || malformed) {
    watchdog.stop();
    throw new StreamStartError(
      first === "error" ? "upstream_stream_interrupted" : "upstream_malformed_chunk",
    );
  }
  if (first === "idle" || (first === "done" && pending.length === 0)) {
    watchdog.stop();
    options.abortUpstream();
    throw new StreamStartError(first === "idle" ? "upstream_stream_interrupted" : "upstream_empty_stream");
  }

  const output = new IdentityTransformStream();
  const writer = output.writable.getWriter();
  /** The client went away (its side of the stream was cancelled): stop everything at once. */
  function cancel(): void {
    if (ended) return;
    options.abortUpstream();
    reader.cancel().catch(() => {});
    end({ complete: false, cancelled: true, errorCode: null });
  }
  writer.closed.catch(cancel);
  pump().catch(cancel);
  return output.readable;

  /** Writes what is pending, reads more, until the stream ends one way or another. */
  async function pump(): Promise<void> {
    for (;;) {
      await flush();
      if (ended) return;
      const state = await readMore();
      if (ended) return;
      if (malformed) return failStream("upstream_malformed_chunk");
      if (oversized) return failStream("upstream_response_too_large");
      if (state === "idle") return failStream("upstream_idle_timeout");
      if (state === "error") return failStream("upstream_stream_interrupted");
      if (state === "done") {
        await flush();
        if (!upstreamComplete) return failStream("upstream_stream_interrupted");
        end({ complete: true, cancelled: false, errorCode: null });
        return writer.close();
      }
    }
  }

  async function flush(): Promise<void> {
    if (pending.length === 0) return;
    const bytes = encoder.encode(pending);
    pending = "";
    await writer.write(bytes);
  }

  async function failStream(code: NonNullable<StreamEnd["errorCode"]>): Promise<void> {
    await flush();
    options.abortUpstream();
    reader.cancel().catch(() => {});
    const body: OpenAIErrorBody = {
      error: { message: ERRORS[code], type: "server_error", param: null, code },
    };
    pending = options.format.fail(body);
    await flush();
    end({ complete: false, cancelled: false, errorCode: code });
    await writer.close();
  }
}
