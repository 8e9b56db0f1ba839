import { describe, expect, it } from "vitest";
import { DEMO_KEY, gateway } from "../support/gateway";
import anthropicRequest from "./fixtures/anthropic-native/request.json";
import anthropicStream from "./fixtures/anthropic-native/stream.sse?raw";
import geminiRequest from "./fixtures/gemini-native/request.json";
import geminiStream from "./fixtures/gemini-native/stream.sse?raw";

// Native passthrough fixtures: the request in is the request upstream (model rewritten, nothing
// else), and the stream upstream is the stream out, byte for byte, however the bytes are chunked.

interface Sent {
  url: string;
  headers: Headers;
  body: string;
}

/** A gateway whose upstream answers every call with `answer`, cut into `chunk`-byte reads. */
function gatewayAnswering(answer: string, contentType: string, chunk: number) {
  const sent: Sent[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    sent.push({ url: request.url, headers: request.headers, body: await request.text() });
    const bytes = new TextEncoder().encode(answer);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += chunk) controller.enqueue(bytes.slice(at, at + chunk));
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": contentType } });
  }) as typeof fetch;
  const gw = gateway(
    {
      routes: {
        "claude-sonnet-4-5": {
          targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5-20250929" }],
        },
        "gemini-2.5-flash": { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash-001" }] },
      },
    },
    { fetcher },
  );
  return { gw, sent };
}

describe("Anthropic native passthrough fixture", () => {
  it.each([1, 7, 4096])(
    "request in = request upstream; stream upstream = stream out (%i-byte reads)",
    async (chunk) => {
      const { gw, sent } = gatewayAnswering(anthropicStream, "text/event-stream", chunk);
      const { response, settled } = await gw.start("/v1/messages", {
        method: "POST",
        headers: {
          "x-api-key": DEMO_KEY,
          "content-type": "application/json",
          "anthropic-version": "2023-06-01",
          "anthropic-beta": "interleaved-thinking-2025-05-14",
        },
        body: JSON.stringify(anthropicRequest),
      });
      expect(response.status).toBe(200);
      const out = new Uint8Array(await response.arrayBuffer());
      await settled;
      expect(out).toEqual(new TextEncoder().encode(anthropicStream));
      const [upstream] = sent;
      expect(upstream?.url.endsWith("/v1/messages")).toBe(true);
      expect(upstream?.body).toBe(
        JSON.stringify({ ...anthropicRequest, model: "claude-sonnet-4-5-20250929" }),
      );
      expect(upstream?.headers.get("anthropic-beta")).toBe("interleaved-thinking-2025-05-14");
      expect(upstream?.headers.get("x-api-key")).not.toBe(DEMO_KEY);
    },
  );
});

describe("Gemini native passthrough fixture", () => {
  it.each([1, 5, 4096])(
    "request in = request upstream; stream upstream = stream out (%i-byte reads)",
    async (chunk) => {
      const { gw, sent } = gatewayAnswering(geminiStream, "text/event-stream", chunk);
      const { response, settled } = await gw.start(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        {
          method: "POST",
          headers: { "x-goog-api-key": DEMO_KEY, "content-type": "application/json" },
          body: JSON.stringify(geminiRequest),
        },
      );
      expect(response.status).toBe(200);
      const out = new Uint8Array(await response.arrayBuffer());
      await settled;
      expect(out).toEqual(new TextEncoder().encode(geminiStream));
      const [upstream] = sent;
      expect(upstream?.url).toMatch(
        /\/v1beta\/models\/gemini-2\.5-flash-001:streamGenerateContent\?alt=sse$/,
      );
      expect(upstream?.body).toBe(JSON.stringify(geminiRequest));
      expect(upstream?.headers.get("x-goog-api-key")).not.toBe(DEMO_KEY);
    },
  );
});
