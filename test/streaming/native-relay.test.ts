import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { predictMockReply } from "../../local/mock-provider";
import { tenantKey } from "../inbound/support";
import { testDb } from "../metering/support";
import {
  clearUpstream,
  gateway,
  MOCK_URL,
  upstreamOnceCancelled,
  upstreamRequests,
} from "../support/gateway";

/*
 * Native streams (/v1/messages to an Anthropic target) are forwarded by the runtime, not relayed
 * event by event in JS (src/streaming/native-relay.ts): the client gets the provider's bytes, the
 * usage row comes from a second branch, and every way a started stream can end is still told to
 * the client (Anthropic's `error` event) and to the usage row.
 */
const claude = (model: string, idle = 500) => ({
  targets: [{ provider: "mock-anthropic", model }],
  retries: 0,
  idle_timeout_ms: idle,
});
const gw = gateway({
  routes: {
    claude: claude("claude-sonnet-4-5"),
    "claude-long": claude("claude-sonnet-4-5+words=300"),
    "claude-drop": claude("claude-sonnet-4-5+fault=drop-after-3"),
    "claude-stall": claude("claude-sonnet-4-5+fault=stall-after-3", 300),
    "claude-malformed": claude("claude-sonnet-4-5+fault=malformed-after-3"),
    "claude-slow": claude("claude-sonnet-4-5+chunk-delay-ms=50+words=200", 5_000),
    "claude-empty-first": {
      targets: [
        { provider: "mock-anthropic", model: "claude-sonnet-4-5+fault=drop-after-0" },
        { provider: "mock-anthropic", model: "claude-haiku-4-5" },
      ],
      retries: 0,
    },
  },
});
const { tenant, key } = await tenantKey("native-relay");
const db = testDb();
const HEADERS = { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" };
const PROMPT = "one two three four five six seven eight nine ten";

beforeEach(clearUpstream);

function ask(model: string): RequestInit {
  return {
    method: "POST",
    headers: HEADERS,
    body: JSON.stringify({
      model,
      max_tokens: 400,
      stream: true,
      messages: [{ role: "user", content: PROMPT }],
    }),
  };
}

/** The usage row of the request, once written. */
async function rowOf(requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const result = await db.execute(
      sql`select status, error_code, completion_tokens, usage_source from usage_events
          where request_id = ${requestId} and tenant = ${tenant}`,
    );
    if (result.rows[0]) return result.rows[0] as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no usage row for ${requestId}`);
}

/** Streams `model` to its end: the text the client got and the request's usage row. */
async function streamed(model: string) {
  const { response, settled } = await gw.start("/v1/messages", ask(model));
  expect(response.status).toBe(200);
  const text = await response.text();
  await settled;
  return { text, row: await rowOf(response.headers.get("x-request-id") ?? "") };
}

/** Reads a body to its end: the text that came, and whether it closed or broke (in-process, text() hides a break). */
async function readUntilEnd(response: Response): Promise<{ text: string; ended: "closed" | "broken" }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, ended: "closed" };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, ended: "broken" };
  }
}

/** The SSE events of a text, as [event name, data]. */
function events(text: string): [string, string][] {
  return text
    .trim()
    .split("\n\n")
    .map((block) => {
      const [name = "", data = ""] = block.split("\n");
      return [name.slice("event: ".length), data.slice("data: ".length)];
    });
}

describe("a native stream, forwarded by the runtime", () => {
  it("reaches the client as the provider sent it and is metered from the provider's usage", async () => {
    const { text, row } = await streamed("claude-long");
    const upstream = await fetch(`${MOCK_URL}/v1/messages`, {
      ...ask("claude-sonnet-4-5+words=300"),
      headers: { ...HEADERS, "x-api-key": "sk-ant-test" },
    }).then((res) => res.text());
    // The same events in the same bytes, less the message id the mock draws per answer.
    const withoutIds = (t: string) => t.replace(/"id":"msg_[^"]+"/g, '"id":"msg"');
    expect(withoutIds(text)).toBe(withoutIds(upstream));
    expect(events(text).at(-1)?.[0]).toBe("message_stop");
    const reply = predictMockReply("anthropic-messages", {
      model: "claude-sonnet-4-5+words=300",
      max_tokens: 400,
      messages: [{ role: "user", content: PROMPT }],
    });
    expect(row).toMatchObject({
      status: 200,
      error_code: null,
      completion_tokens: reply.usage.outputTokens,
      usage_source: "provider",
    });
  });

  it.each([
    ["claude-drop", "upstream_stream_interrupted"],
    ["claude-stall", "upstream_idle_timeout"],
  ])(
    "%s: the client gets what came, then its body breaks (no message_stop); the row says why",
    async (model, code) => {
      const { response, settled } = await gw.start("/v1/messages", ask(model));
      expect(response.status).toBe(200);
      const { text, ended } = await readUntilEnd(response);
      await settled;
      // As the provider's own dropped connection would: a broken body, not a clean end.
      expect(ended).toBe("broken");
      const seen = events(text).map(([name]) => name);
      expect(seen[0]).toBe("message_start");
      expect(seen).not.toContain("message_stop");
      expect(await rowOf(response.headers.get("x-request-id") ?? "")).toMatchObject({
        status: 502,
        error_code: code,
      });
    },
  );

  it("a malformed last event reaches the client as it came; the row says malformed", async () => {
    const { text, row } = await streamed("claude-malformed");
    expect(events(text).map(([name]) => name)).not.toContain("message_stop");
    expect(row).toMatchObject({ status: 502, error_code: "upstream_malformed_chunk" });
  });

  it("falls back when the first target ends before its first event", async () => {
    const { text, row } = await streamed("claude-empty-first");
    expect(events(text).at(-1)?.[0]).toBe("message_stop");
    expect(row).toMatchObject({ status: 200, error_code: null });
    expect((await upstreamRequests()).map((r) => (r.body as { model: string }).model)).toEqual([
      "claude-sonnet-4-5+fault=drop-after-0",
      "claude-haiku-4-5",
    ]);
  });

  it("a client that leaves (the request's signal) aborts the upstream call; the row is a 499", async () => {
    // In workerd the runtime aborts the incoming request's signal when the client disconnects.
    const client = new AbortController();
    const { response, settled } = await gw.start("/v1/messages", {
      ...ask("claude-slow"),
      signal: client.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    client.abort();
    await reader.cancel();
    await settled;
    const recorded = await upstreamOnceCancelled();
    expect(recorded[0]).toMatchObject({ cancelled: true, completed: false });
    expect(await rowOf(response.headers.get("x-request-id") ?? "")).toMatchObject({
      status: 499,
      error_code: "client_closed_request",
    });
  });
});
