import type { OpenAIErrorBody } from "../errors";

const encoder = new TextEncoder();

/** One SSE `data:` frame, as OpenAI frames them. */
export const encodeData = (payload: string): Uint8Array => encoder.encode(`data: ${payload}\n\n`);

/**
 * The terminal frame of a stream that failed after its first byte: an OpenAI-shaped error
 * (the official SDKs raise it) and no `[DONE]`, so nobody mistakes a truncated answer for a whole one.
 */
export const encodeErrorEvent = (body: OpenAIErrorBody): Uint8Array => encodeData(JSON.stringify(body));

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
} as const;
