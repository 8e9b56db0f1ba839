import { sql } from "drizzle-orm";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { SseSplitter } from "../../src/streaming/sse-events";
import { testDb } from "../metering/support";
import { gateway, post } from "../support/gateway";

// The relay's fast paths (its own SSE splitting, upstream bytes written as they came) must give the
// client exactly what the slow path gave, however the upstream cuts its bytes.

const encoder = new TextEncoder();

/** Cuts text into `size`-byte reads (so multi-byte characters are split across reads). */
function chunks(text: string, size: number): Uint8Array[] {
  const bytes = encoder.encode(text);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

/** The events as [event, data] pairs, through the splitter or through eventsource-parser. */
function eventsOf(pieces: string[], viaSplitter: boolean): [string | undefined, string][] {
  const events: [string | undefined, string][] = [];
  if (viaSplitter) {
    const splitter = new SseSplitter((event, data) => events.push([event, data]));
    for (const piece of pieces) splitter.feed(piece);
  } else {
    const parser = createParser({ onEvent: (message) => events.push([message.event, message.data]) });
    for (const piece of pieces) parser.feed(piece);
  }
  return events;
}

const STREAMS: Record<string, string> = {
  openai: 'data: {"a":1}\n\ndata: {"b":"x y"}\n\ndata: [DONE]\n\n',
  "no space after the colon": 'data:{"a":1}\n\ndata:[DONE]\n\n',
  anthropic:
    'event: message_start\ndata: {"t":1}\n\nevent: ping\ndata: {}\n\nevent: message_stop\ndata: {"t":2}\n\n',
  "CRLF line ends (Gemini)": 'data: {"a":1}\r\n\r\ndata: {"b":2}\r\n\r\n',
  "a comment between events": "data: 1\n\n: keep-alive\n\ndata: 2\n\n",
  "multi-line data": "data: 1\ndata: 2\n\ndata: 3\n\n",
  "empty data and an id": "data:\n\nid: 7\ndata: x\n\nretry: 10\n\ndata: y\n\n",
  "an event with no data, then an unfinished one": "event: lone\n\ndata: 1\n\ndata: never finished",
  "a field with no colon, and an empty event name": "data\n\nevent:\ndata: z\n\n",
};

describe("SseSplitter gives the events eventsource-parser gives", () => {
  for (const [name, text] of Object.entries(STREAMS)) {
    it.each([1, 2, 3, 7, 1000])(`${name}, %i-character pieces`, (size) => {
      const pieces: string[] = [];
      for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
      expect(eventsOf(pieces, true)).toEqual(eventsOf(pieces, false));
    });
  }
});

/** A chat stream with multi-byte text in every chunk, the usage chunk, then [DONE]. */
const WORDS = ["héllo", " wörld", " 世界", " 🙂", " done"];
const HEAD = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini"';
const UPSTREAM = `${WORDS.map(
  (word) => `data: ${HEAD},"choices":[{"index":0,"delta":{"content":"${word}"}}],"usage":null}\n\n`,
).join(
  "",
)}data: ${HEAD},"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":5,"total_tokens":16}}\n\ndata: [DONE]\n\n`;

/** A gateway whose upstream answers every call with UPSTREAM cut into `cut`'s reads. */
function gatewayAnswering(cut: (text: string) => Uint8Array[]) {
  const fetcher = (async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of cut(UPSTREAM)) controller.enqueue(piece);
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  }) as typeof fetch;
  const routes = { "relay-test": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } };
  const prices = [{ provider: "mock", model: "gpt-4o-mini", input: 1, output: 2 }];
  return gateway({ routes, prices }, { fetcher });
}

const db = testDb();

/** One streamed request: the bytes the client got and its usage row. */
async function relay(cut: (text: string) => Uint8Array[], includeUsage: boolean) {
  const gw = gatewayAnswering(cut);
  const label = `relay-${crypto.randomUUID()}`;
  const body = {
    model: "relay-test",
    messages: [{ role: "user", content: "Hi" }],
    stream: true,
    ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
  };
  const { response, settled } = await gw.start(
    "/v1/chat/completions",
    post(body, undefined, { "x-request-id": label }),
  );
  expect(response.status).toBe(200);
  const bytes = new Uint8Array(await response.arrayBuffer());
  await settled;
  const result = await db.execute(
    sql`select status, prompt_tokens, completion_tokens, usage_source, error_code from usage_events where client_request_id = ${label}`,
  );
  return { bytes, rows: result.rows };
}

const CUTS: Record<string, (text: string) => Uint8Array[]> = {
  "one event per read": (text) => text.split(/(?<=\n\n)/).map((event) => encoder.encode(event)),
  "all in one read": (text) => [encoder.encode(text)],
  "1-byte reads": (text) => chunks(text, 1),
  "3-byte reads": (text) => chunks(text, 3),
  "50-byte reads": (text) => chunks(text, 50),
};

describe.each(Object.entries(CUTS))("an OpenAI stream relayed, %s", (_name, cut) => {
  const usageEvent = /data: [^\n]*"choices":\[\],"usage"[^\n]*\n\n/;

  it("reaches a client that did not ask for usage byte for byte, less the usage chunk; metered exactly", async () => {
    const { bytes, rows } = await relay(cut, false);
    expect(new TextDecoder().decode(bytes)).toBe(UPSTREAM.replace(usageEvent, ""));
    expect(rows).toEqual([
      { status: 200, prompt_tokens: 11, completion_tokens: 5, usage_source: "provider", error_code: null },
    ]);
  });

  it("reaches a client that asked for usage with the usage chunk and its cost", async () => {
    const { bytes, rows } = await relay(cut, true);
    const text = new TextDecoder().decode(bytes);
    const usage = text.match(usageEvent)?.[0] ?? "";
    expect(JSON.parse(usage.slice("data: ".length)).usage).toEqual({
      prompt_tokens: 11,
      completion_tokens: 5,
      total_tokens: 16,
      cost: (11 * 1 + 5 * 2) / 1e6,
    });
    expect(text.replace(usageEvent, "")).toBe(UPSTREAM.replace(usageEvent, ""));
    expect(rows).toHaveLength(1);
  });
});

describe("reads that gather split events (readAtLeast)", () => {
  const chunk = (content: string) =>
    `data: ${HEAD},"choices":[{"index":0,"delta":{"content":"${content}"}}],"usage":null}\n\n`;

  /**
   * An upstream byte stream that sends each event only once the client has received the one
   * before (as a model does, token by token): a read that waited for more bytes than one event
   * holds would never finish. The final [DONE] comes with the body's end.
   */
  function lockstep(events: string[]) {
    let sent = 0;
    let delivered = 0;
    let wake: (() => void) | null = null;
    const body = new ReadableStream({
      type: "bytes",
      async pull(controller) {
        while (sent > delivered) await new Promise<void>((resolve) => (wake = resolve));
        const event = events[sent++];
        if (event === undefined) return;
        controller.enqueue(encoder.encode(event));
        if (sent === events.length) {
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        }
      },
    });
    const seen = (count: number) => {
      delivered = count;
      wake?.();
    };
    return { body, seen };
  }

  it("never holds an event back waiting for the next", async () => {
    // Events of like sizes, the smallest last-but-one: each must reach the client on its own.
    const events = [
      chunk("Once upon a time, in a land far away"),
      chunk(" there"),
      chunk(" was"),
      chunk("."),
    ];
    const { body, seen } = lockstep(events);
    const fetcher = (async () =>
      new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } })) as typeof fetch;
    const routes = { "relay-test": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } };
    const gw = gateway({ routes }, { fetcher });
    const { response, settled } = await gw.start(
      "/v1/chat/completions",
      post({ model: "relay-test", messages: [{ role: "user", content: "Hi" }], stream: true }),
    );
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      seen(text.split("\n\n").length - 1);
    }
    await settled;
    expect(text).toBe(`${events.join("")}data: [DONE]\n\n`);
  });
});
