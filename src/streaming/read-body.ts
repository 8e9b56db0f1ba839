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
 * A byte stream (any body the runtime delivers) is gathered natively into one growing buffer
 * (workerd's BYOB `readAtLeast`): one JS read for most bodies instead of one per chunk and a
 * last one for the end, ~35 us of CPU each.
 * @example const bytes = await readBody(request.body, 4 << 20, () => new Error("too large"), { ms: 30_000, timedOut: () => new Error("timeout") })
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => Error,
  deadline?: ReadDeadline,
): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = byteReader(body) ?? body.getReader();
  // One timer per body, not a race per read: when it fires, cancelling ends the pending read.
  let expired = false;
  const timer = deadline
    ? setTimeout(() => {
        expired = true;
        reader.cancel().catch(() => {});
      }, deadline.ms)
    : undefined;
  try {
    const bytes =
      reader instanceof ReadableStreamBYOBReader
        ? await gather(reader, maxBytes, tooLarge)
        : await collect(reader, maxBytes, tooLarge);
    if (!expired) return bytes;
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
  // Once cancelled by the timer, the pending read ended (or failed): the deadline is why.
  throw (deadline as ReadDeadline).timedOut();
}

/** A BYOB reader when the body is a byte stream; null for one built in JS from chunks. */
function byteReader(body: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    return null;
  }
}

/**
 * Fills one buffer, doubled whenever it is full (up to maxBytes + 1: one byte past the cap proves
 * the body too large). A read asks for all the room left, so it returns short only at the end.
 */
async function gather(reader: ReadableStreamBYOBReader, maxBytes: number, tooLarge: () => Error) {
  let buffer = new ArrayBuffer(Math.min(FIRST_BUFFER_BYTES, maxBytes + 1));
  let filled = 0;
  for (;;) {
    const room = buffer.byteLength - filled;
    const { done, value } = await reader.readAtLeast(room, new Uint8Array(buffer, filled, room));
    if (value) {
      // The read took the buffer over and handed it back.
      buffer = value.buffer as ArrayBuffer;
      filled += value.byteLength;
    }
    if (done || (value && value.byteLength < room)) return new Uint8Array(buffer, 0, filled);
    if (filled > maxBytes) throw tooLarge();
    const bigger = new Uint8Array(Math.min(buffer.byteLength * 2, maxBytes + 1));
    bigger.set(new Uint8Array(buffer, 0, filled));
    buffer = bigger.buffer;
  }
}

/** Chunk by chunk, for a stream built in JS. */
async function collect(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return joinBytes(chunks);
    size += value.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(value);
  }
}

/** Room for most bodies in one read (an answer, a request without a declared length). */
const FIRST_BUFFER_BYTES = 16 * 1024;

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
