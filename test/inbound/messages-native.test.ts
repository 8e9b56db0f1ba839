import { env } from "cloudflare:workers";
import Anthropic from "@anthropic-ai/sdk";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { signatureOf } from "../../local/mock-provider/anthropic-thinking";
import { testDb } from "../metering/support";
import { clearUpstream, gateway, upstreamRequests } from "../support/gateway";
import { fetchVia, tenantKey } from "./support";

// /v1/messages to an Anthropic target is a native passthrough: the body goes up as sent (model
// rewritten), cache_control and thinking signatures intact, and the usage rows price cache
// writes (5-minute and 1-hour) and reads apart.
const gw = gateway({
  routes: {
    claude: { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
    "claude-then-openai": {
      targets: [
        { provider: "mock-anthropic", model: "claude-sonnet-4-5+fault=status-529" },
        { provider: "mock", model: "gpt-4o-mini" },
      ],
      retries: 0,
    },
    "claude-error-mid-stream": {
      targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5+fault=error-after-3" }],
      retries: 0,
    },
  },
});
const { tenant, key } = await tenantKey("native-anthropic");
const client = new Anthropic({
  apiKey: key,
  baseURL: "http://sluice.test",
  maxRetries: 0,
  fetch: fetchVia(gw),
});
const db = testDb();

/** A system prompt long enough to be worth caching, unique to the test so the mock's cache is cold. */
function longSystem(ttl?: "1h"): Anthropic.TextBlockParam[] {
  const text = `${crypto.randomUUID()} ${"You are a careful assistant who reads the whole manual. ".repeat(300)}`;
  return [{ type: "text", text, cache_control: ttl ? { type: "ephemeral", ttl } : { type: "ephemeral" } }];
}

/** The usage row of a request, once written (rows are written after the answer). */
async function rowOf(requestId: string, owner = tenant): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const result = await db.execute(
      sql`select *, cost_usd::text as cost_text from usage_events where request_id = ${requestId} and tenant = ${owner}`,
    );
    if (result.rows[0]) return result.rows[0] as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no usage row for ${requestId}`);
}

/** claude-sonnet-4-5's list price (PRICES.md): 3 input, 3.75 5m write, 6 1h write, 0.3 read, 15 output. */
function sonnetCost(u: Anthropic.Usage): number {
  const w1h = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const w5m = (u.cache_creation_input_tokens ?? 0) - w1h;
  const micro =
    u.input_tokens * 3 + w5m * 3.75 + w1h * 6 + (u.cache_read_input_tokens ?? 0) * 0.3 + u.output_tokens * 15;
  return micro / 1e6;
}

describe("@anthropic-ai/sdk with cache_control through sluice to an Anthropic target", () => {
  it("the first call writes the cache, the second reads it, and the rows are priced as such", async () => {
    const system = longSystem();
    const ask = () =>
      client.messages
        .create({ model: "claude", max_tokens: 50, system, messages: [{ role: "user", content: "Hello" }] })
        .withResponse();
    const first = await ask();
    const second = await ask();
    const written = first.data.usage.cache_creation_input_tokens ?? 0;
    expect(written).toBeGreaterThan(300);
    expect(first.data.usage.cache_read_input_tokens).toBe(0);
    expect(first.data.usage.cache_creation?.ephemeral_5m_input_tokens).toBe(written);
    expect(second.data.usage.cache_read_input_tokens).toBe(written);
    expect(second.data.usage.cache_creation_input_tokens).toBe(0);

    const [row1, row2] = [
      await rowOf(first.response.headers.get("x-request-id") ?? ""),
      await rowOf(second.response.headers.get("x-request-id") ?? ""),
    ];
    expect(row1).toMatchObject({
      cache_write_tokens: written,
      cache_write_1h_tokens: 0,
      cached_read_tokens: 0,
    });
    expect(row2).toMatchObject({ cache_write_tokens: 0, cached_read_tokens: written });
    expect(Number(row1.cost_text)).toBeCloseTo(sonnetCost(first.data.usage), 12);
    expect(Number(row2.cost_text)).toBeCloseTo(sonnetCost(second.data.usage), 12);
    expect(Number(row2.cost_text)).toBeLessThan(Number(row1.cost_text) / 5);
    expect(Number(first.response.headers.get("x-sluice-cost-usd"))).toBeCloseTo(
      sonnetCost(first.data.usage),
      12,
    );
  });

  it("1-hour cache writes are reported and priced at their own rate (2x input)", async () => {
    const message = await client.messages
      .stream({
        model: "claude",
        max_tokens: 50,
        system: longSystem("1h"),
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    const final = await message.data.finalMessage();
    const written = final.usage.cache_creation_input_tokens ?? 0;
    expect(written).toBeGreaterThan(300);
    expect(final.usage.cache_creation?.ephemeral_1h_input_tokens).toBe(written);
    const row = await rowOf(message.response.headers.get("x-request-id") ?? "");
    expect(row).toMatchObject({ stream: true, cache_write_tokens: written, cache_write_1h_tokens: written });
    expect(Number(row.cost_text)).toBeCloseTo(sonnetCost(final.usage), 12);
  });
});

describe("/admin/usage reports what caching did", () => {
  it("a cache hit ratio and the exact dollars caching saved (writes cost 1.25x, reads 0.1x input)", async () => {
    const own = await tenantKey("cache-report");
    const ownClient = new Anthropic({
      apiKey: own.key,
      baseURL: "http://sluice.test",
      maxRetries: 0,
      fetch: fetchVia(gw),
    });
    const system = longSystem();
    const ask = () =>
      ownClient.messages
        .create({ model: "claude", max_tokens: 20, system, messages: [{ role: "user", content: "Hi" }] })
        .withResponse();
    const calls = [await ask(), await ask()];
    for (const call of calls) await rowOf(call.response.headers.get("x-request-id") ?? "", own.tenant);
    const written = calls[0]?.data.usage.cache_creation_input_tokens ?? 0;
    const prompt = calls.reduce((sum, { data: { usage: u } }) => {
      return sum + u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
    }, 0);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const res = await gw.fetch(`/admin/usage?tenant=${own.tenant}&from=${from}&to=${to}`, {
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    const { totals } = (await res.json()) as { totals: Record<string, unknown> };
    expect(totals).toMatchObject({ cached_tokens: written, cache_write_tokens: written });
    expect(totals.cache_hit_ratio).toBeCloseTo(written / prompt, 4);
    // Saved: the read at 3.00 - 0.30 per 1M, less the write's premium 3.75 - 3.00.
    expect(Number(totals.cache_savings_usd)).toBeCloseTo((written * 2.7 - written * 0.75) / 1e6, 12);
  });
});

describe("the request upstream is the request in", () => {
  it("keeps every field and the anthropic-beta header; the caller's key never goes up", async () => {
    const marker = crypto.randomUUID();
    const body = {
      model: "claude",
      max_tokens: 64,
      system: [{ type: "text", text: `sys ${marker}`, cache_control: { type: "ephemeral", ttl: "1h" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "Look", cache_control: { type: "ephemeral" } }] },
      ],
      top_k: 5,
      metadata: { user_id: "u-1" },
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      tools: [
        { name: "lookup", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } },
        { type: "web_search_20250305", name: "web_search", max_uses: 2 },
      ],
      container: "container_1",
      mcp_servers: [{ type: "url", url: "https://mcp.example/sse", name: "ex" }],
      some_future_field: { nested: [1, 2, 3] },
    };
    const res = await gw.fetch("/v1/messages", {
      method: "POST",
      headers: {
        "x-api-key": key,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "extended-cache-ttl-2025-04-11,mcp-client-2025-04-04",
        "x-custom-caller-header": "nope",
      },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const sent = (await upstreamRequests()).find((r) => JSON.stringify(r.body).includes(marker));
    expect(sent?.path).toBe("/v1/messages");
    expect(sent?.body).toEqual({ ...body, model: "claude-sonnet-4-5" });
    expect(sent?.headers["anthropic-beta"]).toBe("extended-cache-ttl-2025-04-11,mcp-client-2025-04-04");
    expect(sent?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent?.headers["x-api-key"]).not.toBe(key);
    expect(sent?.headers.authorization).toBeUndefined();
    expect(sent?.headers["x-custom-caller-header"]).toBeUndefined();
  });
});

describe("thinking with signatures", () => {
  const tools: Anthropic.Tool[] = [
    { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
  ];
  const thinking = { type: "enabled", budget_tokens: 1024 } as const;

  it("round-trips in a two-turn tool loop (streamed first turn)", async () => {
    const question: Anthropic.MessageParam = {
      role: "user",
      content: `Weather in Paris? ${crypto.randomUUID()}`,
    };
    const first = await client.messages
      .stream({ model: "claude", max_tokens: 2048, thinking, tools, messages: [question] })
      .finalMessage();
    const [thought, call] = first.content;
    expect(thought?.type).toBe("thinking");
    expect(thought?.type === "thinking" && thought.signature).toBe(
      thought?.type === "thinking" ? signatureOf(thought.thinking) : "",
    );
    expect(call?.type).toBe("tool_use");
    const second = await client.messages.create({
      model: "claude",
      max_tokens: 2048,
      thinking,
      tools,
      messages: [
        question,
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: call?.type === "tool_use" ? call.id : "", content: "Sunny" },
          ],
        },
      ],
      tool_choice: { type: "none" },
    });
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content[0]?.type).toBe("thinking");
  });

  it("a thinking block sent back altered is refused by the provider, in Anthropic's shape", async () => {
    const call = client.messages.create({
      model: "claude",
      max_tokens: 2048,
      thinking,
      messages: [
        { role: "user", content: "Hi" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "Edited", signature: signatureOf("Original") },
            { type: "text", text: "Hello" },
          ],
        },
        { role: "user", content: "Again" },
      ],
    });
    await expect(call).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe("fallback, errors and counting", () => {
  it("a native Anthropic target that fails before the first byte falls back to a translated one", async () => {
    const message = await client.messages.create({
      model: "claude-then-openai",
      max_tokens: 50,
      system: longSystem(),
      messages: [{ role: "user", content: "Fall back please" }],
    });
    expect(message.type).toBe("message");
    expect(message.content[0]?.type === "text" && message.content[0].text).toContain(
      "Mock reply to: Fall back please",
    );
  });

  it("a provider's mid-stream error reaches the caller as Anthropic's own error event", async () => {
    const res = await gw.fetch("/v1/messages", {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({
        model: "claude-error-mid-stream",
        max_tokens: 50,
        stream: true,
        messages: [{ role: "user", content: "one two three four five six seven eight nine ten" }],
      }),
    });
    const text = await res.text();
    expect(text.startsWith("event: message_start\n")).toBe(true);
    expect(text.match(/event: error\n/g)).toHaveLength(1);
    expect(text).toContain('"type":"overloaded_error"');
  });

  it("count_tokens goes to Anthropic natively", async () => {
    await clearUpstream();
    const marker = crypto.randomUUID();
    const counted = await client.messages.countTokens({
      model: "claude",
      messages: [{ role: "user", content: `Count these words please ${marker}` }],
    });
    const sent = (await upstreamRequests()).find((r) => JSON.stringify(r.body).includes(marker));
    expect(sent?.path).toBe("/v1/messages/count_tokens");
    // The mock counts words, plus 3 per message.
    expect(counted.input_tokens).toBe(5 + 3);
  });
});
