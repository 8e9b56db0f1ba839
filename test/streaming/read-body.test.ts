import { describe, expect, it } from "vitest";
import { readText } from "../../src/streaming/read-body";

const encoder = new TextEncoder();
const tooLarge = () => new Error("too large");
const deadline = (ms: number) => ({ ms, timedOut: () => new Error("timed out") });

/** A body stream that sends `chunks`, then stays open (a stalled sender) unless `end`. */
function source(chunks: string[], end: boolean) {
  const state = { cancelled: false, pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (end) controller.close();
    },
    pull() {
      state.pulled++;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

/**
 * A byte stream (as the runtime delivers bodies: BYOB reads gather it): sends `chunks` one per
 * pull, then ends unless `stall`.
 */
function byteSource(chunks: Uint8Array[], stall = false) {
  const state = { cancelled: false, pulls: 0 };
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      const chunk = chunks[state.pulls++];
      if (chunk) controller.enqueue(chunk.slice());
      else if (!stall) controller.close();
      else return new Promise<void>(() => {});
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream: stream as ReadableStream<Uint8Array>, state };
}

const message = (body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}) =>
  new Response(body, { headers });

describe("readText", () => {
  it("reads a body with a declared length within the cap whole, in one piece", async () => {
    const text = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"héllo"}]}';
    const bytes = encoder.encode(text).byteLength;
    const response = message(text, { "content-length": String(bytes) });
    expect(await readText(response, bytes, tooLarge, deadline(1_000))).toBe(text);
  });

  it("reads a body without a declared length chunk by chunk, multi-byte characters split across chunks included", async () => {
    const bytes = encoder.encode("héllo");
    const split = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 2));
        controller.enqueue(bytes.slice(2));
        controller.close();
      },
    });
    expect(await readText(message(split), 100, tooLarge)).toBe("héllo");
  });

  it("refuses a declared length past the cap before reading anything, and cancels the body", async () => {
    const { stream, state } = source(["x".repeat(10)], false);
    const response = message(stream, { "content-length": "1000" });
    await expect(readText(response, 999, tooLarge)).rejects.toThrow("too large");
    expect(state.cancelled).toBe(true);
  });

  it("caps a body without a declared length as it arrives, and cancels it", async () => {
    const { stream, state } = source(["x".repeat(600), "x".repeat(600)], false);
    await expect(readText(message(stream), 1_000, tooLarge)).rejects.toThrow("too large");
    expect(state.cancelled).toBe(true);
  });

  it("never trusts the declared length of an encoded body: it is capped as it arrives", async () => {
    // A compressed answer is decoded by the runtime: the declared length is not the decoded size.
    const { stream, state } = source(["x".repeat(600), "x".repeat(600)], false);
    const response = message(stream, { "content-length": "10", "content-encoding": "gzip" });
    await expect(readText(response, 1_000, tooLarge)).rejects.toThrow("too large");
    expect(state.cancelled).toBe(true);
  });

  it("gives up on a stalled body with a declared length at the deadline", async () => {
    const { stream } = source(['{"model":'], false);
    const response = message(stream, { "content-length": "100" });
    await expect(readText(response, 1_000, tooLarge, deadline(50))).rejects.toThrow("timed out");
  });

  it("gives up on a stalled body without a declared length at the deadline, and cancels it", async () => {
    const { stream, state } = source(['{"model":'], false);
    await expect(readText(message(stream), 1_000, tooLarge, deadline(50))).rejects.toThrow("timed out");
    expect(state.cancelled).toBe(true);
  });

  it("treats a Content-Length that is not a plain number as absent (read and capped as it arrives)", async () => {
    for (const value of ["1e3", "-1", "0x10", "10, 10"]) {
      const { stream } = source(["x".repeat(20)], true);
      await expect(readText(message(stream, { "content-length": value }), 10, tooLarge)).rejects.toThrow(
        "too large",
      );
    }
  });

  it("refuses a body built in JS that outgrows its declared length past the cap", async () => {
    const response = message("x".repeat(20), { "content-length": "10" });
    await expect(readText(response, 10, tooLarge)).rejects.toThrow("too large");
  });

  it("reads an empty body as an empty string", async () => {
    expect(await readText(new Response(null), 10, tooLarge)).toBe("");
    expect(await readText(message("", { "content-length": "0" }), 10, tooLarge)).toBe("");
  });

  describe("a byte stream without a declared length (gathered by BYOB reads)", () => {
    it("reads every chunk, multi-byte characters split across chunks included", async () => {
      const bytes = encoder.encode("héllo wörld");
      const { stream } = byteSource([bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9)]);
      expect(await readText(message(stream), 100, tooLarge)).toBe("héllo wörld");
    });

    it("grows past its first buffer for a large body, byte for byte", async () => {
      const text = Array.from({ length: 30_000 }, (_, i) => String(i % 10)).join("");
      const bytes = encoder.encode(text);
      const chunks = Array.from({ length: 10 }, (_, i) => bytes.slice(i * 3_000, (i + 1) * 3_000));
      const { stream } = byteSource([...chunks, ...chunks, ...chunks, ...chunks, ...chunks]);
      const read = await readText(message(stream), 1 << 20, tooLarge);
      expect(read.length).toBe(150_000);
      expect(read).toBe(text.repeat(5));
    });

    it("takes a body of exactly the cap, and refuses one byte more, cancelling it", async () => {
      const exact = byteSource([encoder.encode("x".repeat(600)), encoder.encode("x".repeat(400))]);
      expect(await readText(message(exact.stream), 1_000, tooLarge)).toHaveLength(1_000);
      const over = byteSource([encoder.encode("x".repeat(600)), encoder.encode("x".repeat(401))], true);
      await expect(readText(message(over.stream), 1_000, tooLarge)).rejects.toThrow("too large");
      expect(over.state.cancelled).toBe(true);
    });

    it("refuses a body past a cap larger than its first buffer as it arrives, never reading it all", async () => {
      const chunk = encoder.encode("x".repeat(50_000));
      const { stream, state } = byteSource(Array.from({ length: 100 }, () => chunk));
      await expect(readText(message(stream), 200_000, tooLarge)).rejects.toThrow("too large");
      expect(state.cancelled).toBe(true);
      expect(state.pulls).toBeLessThan(10);
    });

    it("gives up on a stalled body at the deadline, and cancels it", async () => {
      const { stream, state } = byteSource([encoder.encode('{"model":')], true);
      await expect(readText(message(stream), 1_000, tooLarge, deadline(50))).rejects.toThrow("timed out");
      expect(state.cancelled).toBe(true);
    });

    it("reads an empty byte stream as an empty string", async () => {
      expect(await readText(message(byteSource([]).stream), 10, tooLarge)).toBe("");
    });
  });
});
