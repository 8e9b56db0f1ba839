import { startTimer } from "../timers";

/** A time limit on reading a whole body; `timedOut()` is thrown once it passes. */
export interface ReadDeadline {
  ms: number;
  timedOut: () => Error;
}

/**
 * Reads a whole body, giving up as soon as it grows past `maxBytes` (a Content-Length may be
 * absent or lie): the stream is cancelled and `tooLarge()` is thrown. With a `deadline`, a body
 * that has not ended within `deadline.ms` in total is cancelled too and `deadline.timedOut()` is
 * thrown: a sender that stalls, or trickles a byte at a time, cannot hold the read open.
 * @example const bytes = await readBody(request.body, 4 << 20, () => new Error("too large"), { ms: 30_000, timedOut: () => new Error("timeout") })
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => Error,
  deadline?: ReadDeadline,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  // One timer per body (not per read); every read races it.
  const timer = deadline ? startTimer(deadline.ms) : null;
  const expired = timer?.elapsed.then((): never => {
    throw deadline?.timedOut();
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await (expired ? Promise.race([reader.read(), expired]) : reader.read());
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (err) {
    // Stop the sender (too large, too slow, or broken): nothing more of this body is wanted. Not
    // awaited: a stalled source must not hold up the answer.
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    timer?.cancel();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
