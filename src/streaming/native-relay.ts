import { type RelayOptions, type StreamEnd, streamCut } from "./stream-end";
import { StreamMeter } from "./stream-meter";

/**
 * Forwards a stream the client gets byte for byte (`format.raw`: native Anthropic and Gemini
 * answers) through the runtime itself: the upstream body is teed, one branch IS the client's body
 * (no JS per chunk: ~5 us of CPU per event, as a bare passthrough worker; a JS relay costs ~35),
 * the other is read by a StreamMeter for the usage row. As in the JS relay, nothing reaches the
 * client before the answer has started (a failure until then throws StreamStartError and can fall
 * back), and a client that leaves (the request's signal) aborts the upstream call. Unlike it, a
 * stream cut short afterwards ends as the provider's own would: the upstream failing, or the
 * gateway cutting it (idle, malformed, oversized: the upstream call is aborted), breaks the
 * client's connection without a final event, and an answer the upstream left incomplete simply
 * ends; no error event is added (workerd errors a pipe's destination however the pipe stops, so
 * nothing can follow a broken copy). The usage row says why either way.
 * @example const body = await openNativeRelay(response.body, options)
 */
export async function openNativeRelay(
  upstream: ReadableStream<Uint8Array>,
  options: RelayOptions,
): Promise<ReadableStream<Uint8Array>> {
  const [toClient, toMeter] = upstream.tee();
  const meter = new StreamMeter(toMeter, options, options.abortUpstream);
  try {
    await meter.readFirstBytes();
  } catch (err) {
    toClient.cancel().catch(() => {});
    options.abortUpstream();
    throw err;
  }
  watch(meter, options);
  return toClient;
}

/** Meters the stream to its end, or until the client leaves; reports how it ended, once. */
function watch(meter: StreamMeter, options: RelayOptions): void {
  let ended = false;
  const end = (result: StreamEnd) => {
    if (ended) return;
    ended = true;
    options.clientGone?.removeEventListener("abort", leave);
    options.onEnd(result);
  };
  const leave = () => {
    meter.stop();
    options.abortUpstream();
    end({ complete: false, cancelled: true, errorCode: null });
  };
  if (options.clientGone?.aborted) {
    leave();
    return;
  }
  options.clientGone?.addEventListener("abort", leave);
  meter.run().then(
    (state) => {
      const cut = streamCut(meter, state);
      end({
        complete: cut === null && meter.complete === true,
        cancelled: false,
        errorCode: cut?.code ?? null,
      });
    },
    () => end({ complete: false, cancelled: false, errorCode: "upstream_stream_interrupted" }),
  );
}
