import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { OpenAIErrorBody } from "../errors";
import { MalformedUpstreamError, type StreamTranslator, type TokenUsage } from "../providers/types";

const encoder = new TextEncoder();

/** How a relayed stream ended, reported once. */
export interface StreamEnd {
  /** The upstream finished its answer (e.g. `[DONE]`, `message_stop`). */
  complete: boolean;
  /** The client went away before the end. */
  cancelled: boolean;
  /** Why the stream was cut short, when it was. */
  errorCode: "upstream_stream_interrupted" | "upstream_idle_timeout" | "upstream_malformed_chunk" | null;
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
  /** Aborts the upstream request (client gone, timeout). */
  abortUpstream: () => void;
  onEnd: (end: StreamEnd) => void;
}

/** The upstream failed before anything reached the client: safe to fall back to another target. */
export class StreamStartError extends Error {
  constructor(
    readonly code: "upstream_empty_stream" | "upstream_malformed_chunk" | "upstream_stream_interrupted",
  ) {
    super(code);
    this.name = "StreamStartError";
  }
}

const ERRORS: Record<NonNullable<StreamEnd["errorCode"]>, string> = {
  upstream_stream_interrupted: "The upstream connection ended before the answer was complete.",
  upstream_idle_timeout: "The upstream stopped sending data before the answer was complete.",
  upstream_malformed_chunk: "The upstream sent a malformed stream event.",
};

/**
 * Relays an upstream SSE body to the client chunk by chunk: each upstream read is parsed,
 * translated and enqueued at once (pull-driven, no buffering beyond one read). Resolves when the
 * first bytes for the client exist, so a failure before that can still fall back; afterwards a
 * failure ends the stream with an OpenAI-shaped error event instead of `[DONE]`.
 */
export async function openRelay(
  upstream: ReadableStream<Uint8Array>,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
  const reader = upstream.getReader();
  const decoder = new TextDecoder();
  let pending: Uint8Array[] = [];
  let malformed = false;
  let ended = false;
  /** Set once the upstream body ended: whether its answer was complete. */
  let upstreamComplete: boolean | null = null;

  const parser = createParser({
    onEvent(event: EventSourceMessage) {
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
    if (framed) pending.push(encoder.encode(framed));
  }

  function end(result: StreamEnd): void {
    if (ended) return;
    ended = true;
    options.onEnd(result);
  }

  /** Reads upstream until there is output, the upstream ends, or it goes silent too long. */
  async function readMore(): Promise<"data" | "done" | "idle"> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<"idle">((resolve) => {
      timer = setTimeout(() => resolve("idle"), options.idleTimeoutMs);
    });
    try {
      if (upstreamComplete !== null) return "done";
      while (pending.length === 0 && !malformed) {
        const read = reader.read();
        // If the idle timer wins, this read may still fail later (upstream cut): not an unhandled error.
        read.catch(() => {});
        const next = await Promise.race([read, idle]);
        if (next === "idle") return "idle";
        if (next.done) {
          parser.feed(decoder.decode());
          const { payloads, complete } = options.translator.finish();
          for (const payload of payloads) emit(payload);
          upstreamComplete = complete;
          return "done";
        }
        parser.feed(decoder.decode(next.value, { stream: true }));
      }
      return "data";
    } finally {
      clearTimeout(timer);
    }
  }

  // Before the first byte: any failure is the caller's to retry elsewhere.
  let first: "data" | "done" | "idle";
  try {
    first = await readMore();
  } catch {
    throw new StreamStartError("upstream_stream_interrupted");
  }
  if (malformed) throw new StreamStartError("upstream_malformed_chunk");
  if (first === "idle" || (first === "done" && pending.length === 0)) {
    options.abortUpstream();
    throw new StreamStartError(first === "idle" ? "upstream_stream_interrupted" : "upstream_empty_stream");
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (pending.length === 0 && !ended) {
          let state: "data" | "done" | "idle" | "error";
          try {
            state = await readMore();
          } catch {
            state = "error";
          }
          if (malformed) return failStream(controller, "upstream_malformed_chunk");
          if (state === "idle") return failStream(controller, "upstream_idle_timeout");
          if (state === "error") return failStream(controller, "upstream_stream_interrupted");
          if (state === "done") {
            flush(controller);
            if (!upstreamComplete) return failStream(controller, "upstream_stream_interrupted");
            end({ complete: true, cancelled: false, errorCode: null });
            controller.close();
            return;
          }
        }
        flush(controller);
      },
      cancel() {
        options.abortUpstream();
        reader.cancel().catch(() => {});
        end({ complete: false, cancelled: true, errorCode: null });
      },
    },
    { highWaterMark: 0 },
  );

  function flush(controller: ReadableStreamDefaultController<Uint8Array>): void {
    for (const chunk of pending) controller.enqueue(chunk);
    pending = [];
  }

  function failStream(
    controller: ReadableStreamDefaultController<Uint8Array>,
    code: NonNullable<StreamEnd["errorCode"]>,
  ) {
    flush(controller);
    options.abortUpstream();
    reader.cancel().catch(() => {});
    const body: OpenAIErrorBody = {
      error: { message: ERRORS[code], type: "server_error", param: null, code },
    };
    controller.enqueue(encoder.encode(options.format.fail(body)));
    end({ complete: false, cancelled: false, errorCode: code });
    controller.close();
  }
}
