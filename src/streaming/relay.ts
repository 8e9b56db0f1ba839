import { MalformedUpstreamError, type ProviderError } from "../providers/types";
import { joinBytes } from "./bytes";
import { IdleWatchdog } from "./idle-watchdog";
import { openNativeRelay } from "./native-relay";
import { SseSplitter } from "./sse-events";
import {
  type ReadState,
  type RelayOptions,
  type StreamCut,
  type StreamEnd,
  startFailure,
  streamCut,
} from "./stream-end";
import { UpstreamReader } from "./upstream-reader";
import { VerbatimReads } from "./verbatim";

const encoder = new TextEncoder();

/**
 * Relays an upstream SSE body to the client chunk by chunk: each upstream read is parsed,
 * translated and written at once, and the next read waits until the client took it (no buffering
 * beyond one read). Resolves when the first bytes for the client exist, so a failure before that
 * can still fall back (StreamStartError); afterwards a failure ends the stream with an error event
 * in the caller's format instead of `[DONE]`: the provider's own error when it reported one
 * (Anthropic's `error` event, an OpenAI error chunk), else the gateway's reason.
 *
 * The client's stream is a native IdentityTransformStream written to from here: a JS
 * ReadableStream pulled by the runtime costs ~8 us more CPU per relayed chunk in workerd. A
 * stream the client gets byte for byte (`format.raw`) is not relayed here but forwarded by the
 * runtime (native-relay.ts): any JS wake-up per event costs ~35 us, the runtime's pipe ~5.
 * @example const body = await openRelay(response.body, { translator, format, idleTimeoutMs, maxEventBytes, abortUpstream, onEnd })
 */
export async function openRelay(
  upstream: ReadableStream<Uint8Array>,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
  if (options.format.raw) return openNativeRelay(upstream, options);
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
    const first = await this.readMore();
    const { malformed, oversized, providerError } = this;
    const failure = startFailure({ started: this.hasPending(), malformed, oversized, providerError }, first);
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
    while (!this.hasPending() && !this.malformed && !this.oversized && !this.providerError) {
      const next = await this.watchdog.watch(() => this.reader.read());
      if (next === "idle" || next === "error") return next;
      if (next.done) return this.endOfBody();
      this.take(next.value);
    }
    return "data";
  }

  /** One upstream read: its events parsed, translated and framed. */
  private take(bytes: Uint8Array): void {
    this.eventSeen = false;
    const text = this.decoder.decode(bytes, { stream: true });
    this.sse.feed(text);
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

  private endOfBody(): "done" {
    const rest = this.decoder.decode();
    this.sse.feed(rest);
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
      const cut = streamCut(this.source, state);
      if (cut) return this.failStream(cut);
      if (state === "done") return this.completeStream();
    }
  }

  private async completeStream(): Promise<void> {
    await this.flush();
    this.end({ complete: true, cancelled: false, errorCode: null });
    await this.writer.close();
  }

  private async failStream(cut: StreamCut): Promise<void> {
    // The provider's own error: what its translator still holds (the usage so far) goes first.
    if (cut.byProvider) this.source.emitTrailing();
    await this.flush();
    this.options.abortUpstream();
    this.source.cancel();
    this.source.pending = this.options.format.fail(cut.error);
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
