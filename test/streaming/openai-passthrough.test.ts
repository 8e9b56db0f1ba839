import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { predictMockReply } from "../../local/mock-provider";
import { tenantKey } from "../inbound/support";
import { testDb } from "../metering/support";
import {
  clearUpstream,
  gateway,
  MOCK_URL,
  openaiClient,
  readSse,
  upstreamRequests,
} from "../support/gateway";

/*
 * A `stream_passthrough` route: streamed Chat Completions to an OpenAI-compatible target are
 * forwarded by the runtime (src/streaming/native-relay.ts) instead of relayed chunk by chunk, so
 * the caller gets the provider's bytes, usage chunk included; targets of another kind on the same
 * route are still translated.
 */
const passthrough = (provider: string, model: string) => ({
  targets: [{ provider, model }],
  retries: 0,
  stream_passthrough: true,
});
const gw = gateway({
  routes: {
    fast: passthrough("mock", "gpt-4o-mini+words=120"),
    "fast-drop": passthrough("mock", "gpt-4o-mini+fault=drop-after-4"),
    "fast-claude": passthrough("mock-anthropic", "claude-sonnet-4-5"),
    "fast-cached": { ...passthrough("mock", "gpt-4o-mini"), cache: { ttl_seconds: 60 } },
    relayed: { targets: [{ provider: "mock", model: "gpt-4o-mini+words=120" }], retries: 0 },
  },
});
const { tenant, key } = await tenantKey("openai-passthrough");
const db = testDb();
const MESSAGES = [{ role: "user", content: "one two three four five six seven eight" }];

beforeEach(clearUpstream);

function ask(model: string, authorization: string, extra: Record<string, unknown> = {}): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${authorization}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: MESSAGES, ...extra }),
  };
}

async function rowOf(requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const result = await db.execute(
      sql`select status, error_code, completion_tokens, prompt_tokens, usage_source from usage_events
          where request_id = ${requestId} and tenant = ${tenant}`,
    );
    if (result.rows[0]) return result.rows[0] as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no usage row for ${requestId}`);
}

/** The chunks' data, less what the mock draws per answer (id, created). */
const comparable = (text: string) =>
  text.replace(/"id":"chatcmpl-[^"]+"/g, '"id":"x"').replace(/"created":\d+/g, '"created":0');

describe("a stream_passthrough route", () => {
  it("gives the caller the provider's bytes, usage chunk included (no cost), metered from its usage", async () => {
    const { response, settled } = await gw.start("/v1/chat/completions", ask("fast", key));
    expect(response.status).toBe(200);
    const text = await response.text();
    await settled;
    // What the provider sends the gateway: the same body, with the usage the gateway asks for.
    const upstream = await fetch(
      `${MOCK_URL}/v1/chat/completions`,
      ask("gpt-4o-mini+words=120", "sk-test", { stream_options: { include_usage: true } }),
    ).then((res) => res.text());
    expect(comparable(text)).toBe(comparable(upstream));
    const usageChunk = JSON.parse(
      text
        .split("\n\n")
        .filter((block) => block.includes('"usage":{'))
        .at(-1)
        ?.slice("data: ".length) ?? "{}",
    ) as { usage?: Record<string, unknown> };
    expect(usageChunk.usage).toBeDefined();
    expect(usageChunk.usage).not.toHaveProperty("cost");
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const reply = predictMockReply("openai-chat", { model: "gpt-4o-mini+words=120", messages: MESSAGES });
    expect(await rowOf(response.headers.get("x-request-id") ?? "")).toMatchObject({
      status: 200,
      error_code: null,
      prompt_tokens: reply.usage.promptTokens,
      completion_tokens: reply.usage.outputTokens,
      usage_source: "provider",
    });
  });

  it("serves the official openai SDK unchanged: the text, then the usage chunk it did not ask for", async () => {
    const stream = await openaiClient(gw, key).chat.completions.create({
      model: "fast",
      stream: true,
      messages: [{ role: "user", content: MESSAGES[0]?.content ?? "" }],
    });
    let text = "";
    let usage: unknown = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    const reply = predictMockReply("openai-chat", { model: "gpt-4o-mini+words=120", messages: MESSAGES });
    expect(text).toBe(reply.text);
    expect(usage).toMatchObject({ completion_tokens: reply.usage.outputTokens });
  });

  it("meters the same tokens as the relayed route", async () => {
    const rows = [];
    for (const model of ["fast", "relayed"]) {
      const { response, settled } = await gw.start("/v1/chat/completions", ask(model, key));
      await response.text();
      await settled;
      rows.push(await rowOf(response.headers.get("x-request-id") ?? ""));
    }
    const [native, relayed] = rows;
    expect(native?.completion_tokens).toBeGreaterThan(100);
    expect(native).toEqual(relayed);
  });

  it("still translates for a target of another kind (an Anthropic one): OpenAI chunks, no unasked usage chunk", async () => {
    const response = await gw.fetch("/v1/chat/completions", ask("fast-claude", key));
    expect(response.status).toBe(200);
    const events = await readSse(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as { object: string; usage?: unknown });
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true);
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it("is never stored by the response cache (the provider's bytes are not an OpenAI-shaped entry)", async () => {
    const body = { temperature: 0, messages: [{ role: "user", content: `cache ${crypto.randomUUID()}` }] };
    for (let i = 0; i < 2; i++) {
      const response = await gw.fetch("/v1/chat/completions", ask("fast-cached", key, body));
      expect(response.headers.get("x-sluice-cache")).toBe("BYPASS");
      expect(await response.text()).toContain("data: [DONE]");
    }
    expect(await upstreamRequests()).toHaveLength(2);
  });

  it("a provider dropping the stream breaks the caller's body (no [DONE]); the row says why", async () => {
    const { response, settled } = await gw.start("/v1/chat/completions", ask("fast-drop", key));
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    let ended: "closed" | "broken" = "closed";
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read())
        text += decoder.decode(read.value, { stream: true });
    } catch {
      ended = "broken";
    }
    await settled;
    expect(ended).toBe("broken");
    expect(text).toContain("chat.completion.chunk");
    expect(text).not.toContain("[DONE]");
    expect(await rowOf(response.headers.get("x-request-id") ?? "")).toMatchObject({
      status: 502,
      error_code: "upstream_stream_interrupted",
    });
  });
});
