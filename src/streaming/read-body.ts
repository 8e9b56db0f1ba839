import { withTimeout } from "../timers";
import { joinBytes } from "./bytes";

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
  // One timer per body, not a race per read: when it fires, cancelling ends the pending read.
  let expired = false;
  const timer = deadline
    ? setTimeout(() => {
        expired = true;
        reader.cancel().catch(() => {});
      }, deadline.ms)
    : undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      // Once cancelled by the timer, the pending read ends (or fails): `expired` says why.
      const { done, value } = await reader.read();
      if (done || expired) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (err) {
    if (!expired) {
      // Stop the sender (too large, or broken): nothing more of this body is wanted. Not
      // awaited: a stalled source must not hold up the answer.
      reader.cancel().catch(() => {});
      throw err;
    }
  } finally {
    clearTimeout(timer);
  }
  if (expired && deadline) throw deadline.timedOut();
  return joinBytes(chunks);
}

/** A message whose body is read whole: an inbound request or an upstream's answer. */
export interface BodyMessage {
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

const decoder = new TextDecoder();

/**
 * A whole body as UTF-8 text, with `readBody`'s cap and deadline. A declared length past the cap
 * is refused before reading. A declared length within it, with no Content-Encoding (a decoded
 * body may be larger than declared), is read by the runtime in one native call: HTTP framing
 * never delivers more than the declared length, and one promise with one deadline costs far less
 * than a read, a race and a copy per chunk. Anything else goes through `readBody`.
 * @example const text = await readText(request, 4 << 20, () => new Error("too large"), { ms: 30_000, timedOut: () => new Error("timeout") })
 */
export async function readText(
  message: BodyMessage,
  maxBytes: number,
  tooLarge: () => Error,
  deadline?: ReadDeadline,
): Promise<string> {
  const declared = declaredLength(message.headers);
  if (declared !== null && declared > maxBytes) {
    // Nothing of it is wanted; not awaited, as in readBody.
    message.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (declared === null || message.headers.has("content-encoding")) {
    return decoder.decode(await readBody(message.body, maxBytes, tooLarge, deadline));
  }
  const text = deadline
    ? await withTimeout(message.text(), deadline.ms, deadline.timedOut)
    : await message.text();
  // Only a body built in JS can outgrow its header (tests, a binding): never read past the cap
  // unnoticed. Decoded, N bytes are never more than N UTF-16 units, so honest bodies never trip it.
  if (text.length > maxBytes) throw tooLarge();
  return text;
}

/** Content-Length as a number, or null when absent or not a plain decimal. */
function declaredLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}
