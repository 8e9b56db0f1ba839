import type { OpenAIErrorBody } from "../errors";
import { boundedProviderError } from "../providers/common/error-body";
import {
  MalformedUpstreamError,
  type ProviderError,
  type StreamTranslator,
  type TokenUsage,
} from "../providers/types";
import { joinBytes } from "./bytes";
import { IdleWatchdog } from "./idle-watchdog";
import { SseSplitter } from "./sse-events";
import { UpstreamReader } from "./upstream-reader";
import { VerbatimReads } from "./verbatim";

const encoder = new TextEncoder();

/** The gateway's own reasons for cutting a started stream short. */
export type StreamCutCode =
  | "upstream_stream_interrupted"
  | "upstream_idle_timeout"
  | "upstream_malformed_chunk"
  | "upstream_response_too_large";

/** The usage row's code for a provider's own mid-stream error that came without a code. */
export const PROVIDER_STREAM_ERROR_CODE = "upstream_stream_error";

/** How a relayed stream ended, reported once. */
export interface StreamEnd {
  /** The upstream finished its answer (e.g. `[DONE]`, `message_stop`). */
  complete: boolean;
  /** The client went away before the end. */
  cancelled: boolean;
  /**
   * Why the stream was cut short, when it was: a StreamCutCode, or for an error the provider
   * itself reported mid-stream, its code (`upstream_stream_error` when it gave none).
   */
  errorCode: StreamCutCode | (string & {}) | null;
}

/** How the client's stream is written: OpenAI SSE, or Anthropic events on /v1/messages. */
export interface StreamFormat {
  /**
   * Frames one OpenAI payload for the client (SSE text), possibly rewritten (the usage chunk with
   * its cost), or null to drop it (the usage chunk the caller did not ask for).
   */
  frame(payload: string, usage: TokenUsage | null): string | null;
  /** The terminal event of a stream cut short, from the OpenAI-shaped error. */
  fail(error: OpenAIErrorBody): string;
  /**
   * Native passthrough: the client gets the upstream's bytes as they came; payloads are only
   * read (usage, errors) and mark that the answer has started. A provider's own error event then
   * reaches the client as the provider wrote it, so no second error event is added.
   */
  raw?: boolean;
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
      | "upstream_response_too_large"
      | typeof PROVIDER_STREAM_ERROR_CODE,
    /** The provider's own error, when it reported one before the first byte. */
    readonly providerError: ProviderError | null = null,
  ) {
    super(code);
    this.name = "StreamStartError";
  }
}

const MESSAGES: Record<StreamCutCode, string> = {
  upstream_stream_interrupted: "The upstream connection ended before the answer was complete.",
  upstream_idle_timeout: "The upstream stopped sending data before the answer was complete.",
  upstream_malformed_chunk: "The upstream sent a malformed stream event.",
  upstream_response_too_large: "The upstream sent a stream event larger than the gateway accepts.",
};

/** What one upstream read led to. */
type ReadState = "data" | "done" | "idle" | "error";

/** A started stream's end by error: the code the usage row gets and the error the caller gets. */
interface StreamCut {
  code: string;
  error: OpenAIErrorBody;
}

/**
 * Relays an upstream SSE body to the client chunk by chunk: each upstream read is parsed,
 * translated and written at once, and the next read waits until the client took it (no buffering
 * beyond one read). Resolves when the first bytes for the client exist, so a failure before that
 * can still fall back (StreamStartError); afterwards a failure ends the stream with an error event
 * in the caller's format instead of `[DONE]`: the provider's own error when it reported one
 * (Anthropic's `error` event, an OpenAI error chunk), else the gateway's reason.
 *
 * The client's stream is a native IdentityTransformStream written to from here: a JS
 * ReadableStream pulled by the runtime costs ~8 us more CPU per relayed chunk in workerd.
 * @example const body = await openRelay(response.body, { translator, format, idleTimeoutMs, maxEventBytes, abortUpstream, onEnd })
 */
export async function openRelay(
  upstream: ReadableStream<Uint8Array>,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
  const source = new UpstreamSource(upstream, options);
  await source.readFirstBytes();
  const output = new IdentityTransformStream();
  new ClientPump(source, output.writable.getWriter(), options).start();
  return output.readable;
}

/**
 * The read side: upstream bytes, parsed into SSE events, translated, framed for the client and
 * kept in `pending` until the pump writes them. It stops reading at the first event it cannot
 * carry on from (malformed, oversized, or the provider's own error).
 */
class UpstreamSource {
  /** SSE text framed for the client, not yet handed over: encoded once per write, not per event. */
  pending = "";
  /**
   * An upstream read whose text is exactly what the client gets (every event passed unchanged):
   * written as the bytes that came, with no encoding and no copy.
   */
  pendingBytes: Uint8Array | null = null;
  malformed = false;
  /** Set once more than maxEventBytes arrived without an event completing. */
  oversized = false;
  /** The error the provider reported inside the stream. */
  providerError: ProviderError | null = null;
  /** Set once the upstream body ended: whether its answer was complete. */
  complete: boolean | null = null;
  /** Bytes read since the last complete event (what the parser may be holding). */
  private bytesSinceEvent = 0;
  private eventSeen = false;
  /** Raw mode: upstream text read before the answer started, held so a failure can still fall back. */
  private held = "";
  private started = false;
  private readonly reader: UpstreamReader;
  private readonly decoder = new TextDecoder();
  private readonly verbatim = new VerbatimReads();
  private readonly watchdog: IdleWatchdog;
  private readonly sse: SseSplitter;

  constructor(
    upstream: ReadableStream<Uint8Array>,
    private readonly options: RelayOptions,
  ) {
    this.reader = new UpstreamReader(upstream);
    // An idle upstream is cancelled: the pending read then settles and readMore reports "idle".
    this.watchdog = new IdleWatchdog(options.idleTimeoutMs, () => this.cancel());
    this.sse = new SseSplitter((event, data) => this.onEvent(event, data));
  }

  /** Reads until the first bytes for the client exist; a failure before that throws StreamStartError. */
  async readFirstBytes(): Promise<void> {
    const failure = this.startFailure(await this.readMore());
    if (!failure) return;
    this.stop();
    this.options.abortUpstream();
    throw failure;
  }

  /**
   * Reads upstream until there is output, the upstream ends, it goes silent too long, or a stop
   * event. Each read is watched for silence: "idle" when the watchdog cut it short.
   */
  async readMore(): Promise<ReadState> {
    if (this.complete !== null) return "done";
    const watchdog = this.watchdog;
    try {
      while (!this.hasPending() && !this.malformed && !this.oversized && !this.providerError) {
        watchdog.begin();
        const next = await this.reader.read();
        watchdog.end();
        if (watchdog.fired) return "idle";
        if (next.done) return this.endOfBody();
        this.take(next.value);
      }
    } catch {
      watchdog.end();
      return watchdog.fired ? "idle" : "error";
    }
    return "data";
  }

  /** One upstream read: its events parsed, translated and framed. */
  private take(bytes: Uint8Array): void {
    this.eventSeen = false;
    const text = this.decoder.decode(bytes, { stream: true });
    this.sse.feed(text);
    this.passRaw(text);
    this.bytesSinceEvent = this.eventSeen ? 0 : this.bytesSinceEvent + bytes.byteLength;
    if (this.bytesSinceEvent > this.options.maxEventBytes) this.oversized = true;
    this.verbatim.took(bytes, text, this.pending);
    const same = this.pending.length > 0 ? this.verbatim.bytes() : null;
    if (same) {
      this.pending = "";
      this.pendingBytes = same;
    }
    // Written bytes are recycled once the write is done (ClientPump.flush).
    if (same !== bytes && !this.verbatim.keeps()) this.reader.recycle(bytes);
  }

  /** Bytes handed to the client and taken: their buffer may be read into again. */
  recycle(bytes: Uint8Array): void {
    this.reader.recycle(bytes);
  }

  hasPending(): boolean {
    return this.pending.length > 0 || this.pendingBytes !== null;
  }

  /** What the translator still has once the provider failed (the usage known so far), framed. */
  emitTrailing(): void {
    for (const payload of this.options.translator.finish().payloads) this.emit(payload);
  }

  /** Takes what waits for the client (pendingBytes first: they were read before any text). */
  takePending(): Uint8Array | null {
    const bytes = this.pendingBytes;
    this.pendingBytes = null;
    if (bytes && this.pending.length === 0) return bytes;
    const text = this.pending;
    this.pending = "";
    const encoded = encoder.encode(text);
    return bytes ? joinBytes([bytes, encoded]) : encoded;
  }

  stop(): void {
    this.watchdog.stop();
  }

  cancel(): void {
    this.reader.cancel();
  }

  /** Why the stream cannot start, or null when the client can have its first bytes. */
  private startFailure(first: ReadState): StreamStartError | null {
    const empty = !this.hasPending();
    if (this.oversized && empty) return new StreamStartError("upstream_response_too_large");
    if (first === "error") return new StreamStartError("upstream_stream_interrupted");
    if (this.malformed) return new StreamStartError("upstream_malformed_chunk");
    if (this.providerError && empty) {
      return new StreamStartError(PROVIDER_STREAM_ERROR_CODE, boundedProviderError(this.providerError));
    }
    if (first === "idle") return new StreamStartError("upstream_stream_interrupted");
    if (first === "done" && empty) return new StreamStartError("upstream_empty_stream");
    return null;
  }

  /** Raw mode: the text read goes to the client as it is, once the answer has started. */
  private passRaw(text: string): void {
    if (!this.options.format.raw || this.malformed) return;
    this.held += text;
    if (!this.started) {
      if (this.held.length > this.options.maxEventBytes) this.oversized = true;
      return;
    }
    this.pending += this.held;
    this.held = "";
  }

  private endOfBody(): "done" {
    const rest = this.decoder.decode();
    this.sse.feed(rest);
    this.passRaw(rest);
    const { payloads, complete } = this.options.translator.finish();
    for (const payload of payloads) this.emit(payload);
    this.complete = complete;
    return "done";
  }

  private onEvent(event: string | undefined, data: string): void {
    this.eventSeen = true;
    this.reader.sawEvent(data.length);
    if (this.malformed || this.providerError) return;
    const translator = this.options.translator;
    try {
      for (const payload of translator.push({ event, data })) this.emit(payload);
    } catch (err) {
      if (!(err instanceof MalformedUpstreamError)) throw err;
      this.malformed = true;
      return;
    }
    this.providerError = translator.upstreamError();
  }

  private emit(payload: string): void {
    this.started = true;
    if (this.options.format.raw) return;
    const framed = this.options.format.frame(payload, this.options.translator.usage());
    if (framed) this.pending += framed;
  }
}

/**
 * The write side: hands what the source read to the client, asks for more, and ends the client's
 * stream once: closed after a complete answer, with an error event after a cut, at once when the
 * client goes away.
 */
class ClientPump {
  private ended = false;

  constructor(
    private readonly source: UpstreamSource,
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    private readonly options: RelayOptions,
  ) {}

  start(): void {
    this.writer.closed.catch(() => this.cancel());
    this.pump().catch(() => this.cancel());
  }

  /** Writes what is pending, reads more, until the stream ends one way or another. */
  private async pump(): Promise<void> {
    for (;;) {
      await this.flush();
      if (this.ended) return;
      const state = await this.source.readMore();
      if (this.ended) return;
      const cut = this.cutOf(state);
      if (cut) return this.failStream(cut);
      if (state === "done") return this.completeStream();
    }
  }

  /** Why the stream must end now with an error event, or null to go on. */
  private cutOf(state: ReadState): StreamCut | null {
    const source = this.source;
    if (source.malformed) return gatewayCut("upstream_malformed_chunk");
    if (source.oversized) return gatewayCut("upstream_response_too_large");
    if (source.providerError) {
      source.emitTrailing();
      return providerCut(source.providerError);
    }
    if (state === "idle") return gatewayCut("upstream_idle_timeout");
    if (state === "error") return gatewayCut("upstream_stream_interrupted");
    if (state === "done" && !source.complete) return gatewayCut("upstream_stream_interrupted");
    return null;
  }

  private async completeStream(): Promise<void> {
    await this.flush();
    this.end({ complete: true, cancelled: false, errorCode: null });
    await this.writer.close();
  }

  private async failStream(cut: StreamCut): Promise<void> {
    await this.flush();
    this.options.abortUpstream();
    this.source.cancel();
    // A raw stream already carried the provider's own error event.
    const relayed = this.options.format.raw && this.source.providerError !== null;
    this.source.pending = relayed ? "" : this.options.format.fail(cut.error);
    await this.flush();
    this.end({ complete: false, cancelled: false, errorCode: cut.code });
    await this.writer.close();
  }

  /** The client went away (its side of the stream was cancelled): stop everything at once. */
  private cancel(): void {
    if (this.ended) return;
    this.options.abortUpstream();
    this.source.cancel();
    this.end({ complete: false, cancelled: true, errorCode: null });
  }

  private async flush(): Promise<void> {
    const bytes = this.source.takePending();
    if (!bytes || bytes.byteLength === 0) return;
    await this.writer.write(bytes);
    // The runtime copied them for the client by now.
    this.source.recycle(bytes);
  }

  private end(result: StreamEnd): void {
    this.source.stop();
    if (this.ended) return;
    this.ended = true;
    this.options.onEnd(result);
  }
}

function gatewayCut(code: StreamCutCode): StreamCut {
  return { code, error: { error: { message: MESSAGES[code], type: "server_error", param: null, code } } };
}

/**
 * The provider's own error as the caller gets it (its message, type and code, bounded); its code,
 * when it gave one, is also the usage row's.
 */
function providerCut(providerError: ProviderError): StreamCut {
  const { message, type, code, param } = boundedProviderError(providerError);
  return { code: code ?? PROVIDER_STREAM_ERROR_CODE, error: { error: { message, type, param, code } } };
}
