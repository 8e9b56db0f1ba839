/**
 * Reads an upstream SSE body for the relay, with as few wake-ups of JS as the stream allows: each
 * read that reaches JS is the relay's largest cost per event. workerd hands an HTTP/1.1 chunked
 * body to a plain read() in two parts per event whenever the event is already there (the bytes
 * that came with its chunk-size line, then the rest), so reads ask for at least half the smallest
 * event seen so far (workerd's BYOB `readAtLeast`) and the runtime gathers the rest natively. An
 * event smaller than that, followed by a pause, waits for the next bytes: a stream's events are of
 * like sizes, and the body's end always completes a read.
 * @example const reader = new UpstreamReader(body); const { done, value } = await reader.read(); reader.sawEvent(data.length)
 */
export class UpstreamReader {
  private readonly byob: ReadableStreamBYOBReader | null = null;
  private readonly plain: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private atLeast = 1;
  /** A read buffer the relay is done with: the next read fills it instead of a new one. */
  private spare: ArrayBuffer | null = null;
  private smallestEvent = Number.POSITIVE_INFINITY;

  /** `readBytes`: the size of each read's buffer. */
  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly readBytes = READ_BYTES,
  ) {
    try {
      this.byob = body.getReader({ mode: "byob" });
    } catch {
      // Not a byte stream (one a test or a wrapper built): plain reads.
      this.plain = body.getReader();
    }
  }

  /** The next bytes; not an async function: one promise per read, the runtime's own. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (!this.byob) return (this.plain as ReadableStreamDefaultReader<Uint8Array>).read();
    const buffer = this.spare ?? new ArrayBuffer(this.readBytes);
    this.spare = null;
    return this.byob.readAtLeast(this.atLeast, new Uint8Array(buffer));
  }

  /** An event of at least this many bytes completed: later reads may wait for half as many. */
  sawEvent(bytes: number): void {
    if (bytes >= this.smallestEvent) return;
    this.smallestEvent = bytes;
    this.atLeast = Math.max(1, Math.min(MAX_AT_LEAST, bytes >> 1));
  }

  /**
   * Bytes read earlier that nothing holds any more (decoded, or written and the write done): their
   * buffer is filled again, saving an allocation per read and the garbage collections they cause.
   */
  recycle(bytes: Uint8Array): void {
    if (bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength === this.readBytes)
      this.spare = bytes.buffer;
  }

  /** Whether one read takes every byte that came since the last (a BYOB read), not one chunk. */
  gathers(): boolean {
    return this.byob !== null;
  }

  cancel(): void {
    (this.byob ?? this.plain)?.cancel().catch(() => {});
  }
}

/** Room for one relay read: a few events at once, most of a large one. */
const READ_BYTES = 4096;

/** Enough to take a split event's rest in one read (the part read with its chunk-size line is smaller). */
const MAX_AT_LEAST = 128;
