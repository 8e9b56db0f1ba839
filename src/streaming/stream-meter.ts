import { MalformedUpstreamError, type ProviderError } from "../providers/types";
import { IdleWatchdog } from "./idle-watchdog";
import { SseSplitter } from "./sse-events";
import { type ReadState, type RelayOptions, startFailure } from "./stream-end";
import { UpstreamReader } from "./upstream-reader";

/**
 * Reads the metering branch of a stream the runtime forwards to the client itself
 * (native-relay.ts): events are parsed and given to the translator for the usage, the provider's
 * own error and whether the answer completed; nothing is written anywhere. Until the answer has
 * started it reads as fast as bytes come (a failure then can still fall back); afterwards its
 * reads are spaced `READ_SPACING_MS` apart, so that the events that came meanwhile are parsed in
 * one wake-up instead of one each. `wake()` ends a pause early (the client's copy is done).
 * @example const meter = new StreamMeter(branch, options, options.abortUpstream); await meter.readFirstBytes(); const state = await meter.run()
 */
export class StreamMeter {
  malformed = false;
  /** Set once more than maxEventBytes arrived without an event completing (or before the start). */
  oversized = false;
  /** The error the provider reported inside the stream. */
  providerError: ProviderError | null = null;
  /** Set once the upstream body ended: whether its answer was complete. */
  complete: boolean | null = null;
  /** Whether the translator made anything of the events yet: the answer has started. */
  started = false;
  private bytesSinceEvent = 0;
  private eventSeen = false;
  private stopped = false;
  private pause: { timer: ReturnType<typeof setTimeout>; resume: () => void } | null = null;
  private readonly reader: UpstreamReader;
  private readonly decoder = new TextDecoder();
  private readonly watchdog: IdleWatchdog;
  private readonly sse: SseSplitter;

  /**
   * `cut` ends the stream for a reason the meter found (silence past the idle timeout, an event it
   * cannot carry on from): it aborts the upstream call, which breaks the client's branch too.
   */
  constructor(
    branch: ReadableStream<Uint8Array>,
    private readonly options: RelayOptions,
    private readonly cut: () => void,
  ) {
    this.reader = new UpstreamReader(branch, METER_READ_BYTES);
    this.watchdog = new IdleWatchdog(options.idleTimeoutMs, cut);
    this.sse = new SseSplitter((event, data) => this.onEvent(event, data));
  }

  /** Reads until the answer has started; a failure before that throws StreamStartError. */
  async readFirstBytes(): Promise<void> {
    let state: ReadState = "data";
    while (state === "data" && !this.started && !this.stopsHere()) state = await this.readOnce();
    const failure = startFailure(this, state);
    if (!failure) return;
    this.stop();
    throw failure;
  }

  /**
   * Reads to the end of the upstream body, or until an event it cannot carry on from, a silence
   * longer than the idle timeout, or `stop()`: how it ended.
   */
  async run(): Promise<ReadState> {
    let state: ReadState = "data";
    // A reader that takes one chunk per read (a stream built in JS) gains nothing from pauses.
    const spaced = this.reader.gathers();
    while (state === "data" && !this.stopsHere()) {
      if (spaced) await this.spaced();
      state = await this.readOnce();
    }
    this.watchdog.stop();
    if (this.malformed || this.oversized) this.cut();
    return state;
  }

  /** Ends a pause between reads now: what is left is read at once. */
  wake(): void {
    const pause = this.pause;
    if (!pause) return;
    this.pause = null;
    clearTimeout(pause.timer);
    pause.resume();
  }

  /** No more reads (the client left, or the stream is being cut): the branch is released. */
  stop(): void {
    this.stopped = true;
    this.watchdog.stop();
    this.wake();
    this.reader.cancel();
  }

  private stopsHere(): boolean {
    return this.stopped || this.malformed || this.oversized || this.complete !== null;
  }

  private spaced(): Promise<void> {
    return new Promise((resume) => {
      this.pause = { timer: setTimeout(() => this.wake(), READ_SPACING_MS), resume };
    });
  }

  private async readOnce(): Promise<ReadState> {
    const next = await this.watchdog.watch(() => this.reader.read());
    if (next === "idle" || next === "error") return next;
    if (next.done) return this.endOfBody();
    this.take(next.value);
    return "data";
  }

  private take(bytes: Uint8Array): void {
    this.eventSeen = false;
    this.sse.feed(this.decoder.decode(bytes, { stream: true }));
    this.bytesSinceEvent = this.eventSeen && this.started ? 0 : this.bytesSinceEvent + bytes.byteLength;
    // Before the start the client's branch holds every byte read: bounded like one event.
    if (this.bytesSinceEvent > this.options.maxEventBytes) this.oversized = true;
    this.reader.recycle(bytes);
  }

  private endOfBody(): "done" {
    this.sse.feed(this.decoder.decode());
    const { payloads, complete } = this.options.translator.finish();
    if (payloads.length > 0) this.started = true;
    this.complete = complete;
    return "done";
  }

  private onEvent(event: string | undefined, data: string): void {
    this.eventSeen = true;
    // After the provider's own error nothing more is metered (the client has that error event).
    if (this.malformed || this.providerError) return;
    const translator = this.options.translator;
    try {
      if (translator.push({ event, data }).length > 0) this.started = true;
    } catch (err) {
      if (!(err instanceof MalformedUpstreamError)) throw err;
      this.malformed = true;
      return;
    }
    this.providerError = translator.upstreamError();
  }
}

/** Room for one metering read: a pause's worth of events. */
const METER_READ_BYTES = 64 * 1024;

/**
 * Between two metering reads once the answer has started. The client's copy does not wait for
 * it (the runtime forwards each chunk as it comes); only the meter's view lags, by at most this.
 */
const READ_SPACING_MS = 25;
