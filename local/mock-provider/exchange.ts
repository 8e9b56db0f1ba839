/**
 * Writing one answer: JSON bodies, error bodies and streams, with the request's fault and chunk
 * delay applied, and the recorded request's `completed` / `cancelled` flags kept honest.
 */

import type { ServerResponse } from "node:http";
import type { Fault } from "./faults";
import type { RecordedRequest } from "./recorder";

/** One stream event before framing: an optional SSE event name and its data text. */
export interface Frame {
  event?: string;
  data: string;
}

/** How frames go on the wire. */
export interface Framing {
  contentType: string;
  open?: string;
  encode(frame: Frame, index: number): string;
  close?: string;
}

/** Server-sent events with LF line ends (OpenAI, Anthropic). */
export const SSE_LF: Framing = {
  contentType: "text/event-stream; charset=utf-8",
  encode: (f) => `${f.event === undefined ? "" : `event: ${f.event}\n`}data: ${f.data}\n\n`,
};

/** Server-sent events with CRLF line ends, as Gemini's `alt=sse` streams them. */
export const SSE_CRLF: Framing = {
  contentType: "text/event-stream",
  encode: (f) => `data: ${f.data}\r\n\r\n`,
};

/** A streamed JSON array, as Gemini streams without `alt=sse`. */
export const JSON_ARRAY: Framing = {
  contentType: "application/json; charset=UTF-8",
  open: "[",
  encode: (f, i) => (i === 0 ? f.data : `,\r\n${f.data}`),
  close: "]",
};

/** What a wire format contributes to every answer. */
export interface WireFormat {
  name: "openai" | "anthropic" | "gemini";
  /** The format's error JSON for an HTTP status. */
  errorBody(status: number, message: string, requestId: number): unknown;
  /** The event a stream carries when it fails after it started (fault `error-after-N`). */
  streamErrorFrame(requestId: number): Frame;
  /** Headers every answer carries, e.g. a request id. */
  headers(requestId: number): Record<string, string>;
}

/** Writes the answer to one request. */
export class Exchange {
  /** Set when the mock itself cut the connection, so it is not counted as a client cancel. */
  private serverAborted = false;

  /** The fault to apply to this answer, when it fires for this request. */
  fault: Fault | undefined;
  /** Pause between stream chunks, in milliseconds. */
  chunkDelayMs = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly record: RecordedRequest,
    private readonly format: WireFormat,
  ) {
    res.on("finish", () => {
      record.completed = true;
    });
    res.on("close", () => {
      if (!res.writableFinished && !this.serverAborted) record.cancelled = true;
    });
  }

  /** Marks the connection as cut by the mock (server shutdown, faults). */
  markServerAborted(): void {
    this.serverAborted = true;
  }

  /** Sends the wire format's error body with `status`. */
  error(status: number, message: string, extraHeaders: Record<string, string> = {}): void {
    const body = JSON.stringify(this.padded(this.format.errorBody(status, message, this.record.id)));
    this.res.writeHead(status, { ...this.jsonHeaders(), ...extraHeaders });
    this.res.end(body);
  }

  /** Sends a JSON body; a mid-stream fault cuts it in half (drop, stall, malformed) or makes it a 500. */
  async json(body: unknown): Promise<void> {
    const text = JSON.stringify(this.padded(body));
    const mid = this.fault?.midStream;
    if (mid?.kind === "error") return this.error(500, "mock: injected server error");
    this.res.writeHead(200, this.jsonHeaders());
    if (mid === undefined) return void this.res.end(text);
    const half = text.slice(0, Math.floor(text.length / 2));
    if (mid.kind === "malformed") return void this.res.end(half);
    if (!(await this.write(half))) return;
    if (mid.kind === "drop") this.cut(false);
  }

  /** Streams frames one by one with the chunk delay, applying a mid-stream fault at its chunk. */
  async stream(frames: Frame[], framing: Framing): Promise<void> {
    this.res.writeHead(200, {
      "content-type": framing.contentType,
      "cache-control": "no-cache",
      ...this.format.headers(this.record.id),
    });
    this.res.flushHeaders();
    if (framing.open !== undefined && !(await this.write(framing.open))) return;
    const pad = this.fault?.padBytes;
    // An SSE comment line that never ends: the next frames only add to it.
    if (pad !== undefined && !(await this.write(`: ${"x".repeat(pad)}`))) return;
    const mid = this.fault?.midStream;
    for (let i = 0; i <= frames.length; i++) {
      if (mid !== undefined && (i === mid.after || i === frames.length)) {
        return this.midStreamFault(mid.kind, frames[i], framing, i);
      }
      const frame = frames[i];
      if (frame === undefined) break;
      if (i > 0) await this.sleep(this.chunkDelayMs);
      if (!(await this.write(framing.encode(frame, i)))) return;
    }
    if (framing.close !== undefined && !(await this.write(framing.close))) return;
    this.res.end();
  }

  /** Waits `ms` milliseconds, or less if the client goes away. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.res.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.res.once("close", done);
    });
  }

  /** Cuts the connection: `reset` sends a TCP RST, otherwise a plain close. */
  cut(reset: boolean): void {
    this.serverAborted = true;
    const socket = this.res.socket;
    if (socket === null) return void this.res.destroy();
    if (reset) socket.resetAndDestroy();
    else socket.destroy();
  }

  private async midStreamFault(
    kind: "drop" | "stall" | "malformed" | "error",
    next: Frame | undefined,
    framing: Framing,
    index: number,
  ): Promise<void> {
    if (kind === "drop") return this.cut(false);
    if (kind === "stall") return; // keep the socket open, write nothing more
    const bad =
      kind === "error"
        ? this.format.streamErrorFrame(this.record.id)
        : { event: next?.event, data: malformedData(next?.data) };
    if (index > 0) await this.sleep(this.chunkDelayMs);
    if (await this.write(framing.encode(bad, index))) this.res.end();
  }

  /** Writes a chunk and resolves once it reached the socket; false if the client is gone. */
  private write(chunk: string): Promise<boolean> {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onClose = (): void => resolve(false);
      res.once("close", onClose);
      res.write(chunk, (err) => {
        res.off("close", onClose);
        resolve(!err && !res.destroyed);
      });
    });
  }

  /** The body with a `padding` field of the fault's size, after the real fields (fault `pad-N`). */
  private padded(body: unknown): unknown {
    const pad = this.fault?.padBytes;
    if (pad === undefined || typeof body !== "object" || body === null || Array.isArray(body)) return body;
    return { ...body, padding: "x".repeat(pad) };
  }

  private jsonHeaders(): Record<string, string> {
    return { "content-type": "application/json", ...this.format.headers(this.record.id) };
  }
}

/** Half of a JSON text (never valid JSON), used for the `malformed-after-N` chunk. */
function malformedData(data: string | undefined): string {
  if (data === undefined || !data.startsWith("{")) return '{"malformed":';
  return data.slice(0, Math.ceil(data.length / 2));
}
