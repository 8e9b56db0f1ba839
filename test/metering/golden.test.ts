import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { gateway, MOCK_URL, post, readSse } from "../support/gateway";
import { testDb } from "./support";

// End to end through the proxy and the mock provider: the row's tokens are what the provider
// reported, its cost is tokens x list price exactly, and the caller saw the same cost.

/** PRICES.md list prices in picodollars per token (USD per 1M tokens x 1e6), typed in by hand. */
const PICO = {
  "gpt-4.1": { input: 2_000_000n, cached: 500_000n, write: 2_000_000n, output: 8_000_000n },
  "deepseek-chat": { input: 280_000n, cached: 28_000n, write: 280_000n, output: 420_000n },
  "claude-sonnet-4-5": { input: 3_000_000n, cached: 300_000n, write: 3_750_000n, output: 15_000_000n },
  "gemini-2.5-flash": { input: 300_000n, cached: 30_000n, write: 300_000n, output: 2_500_000n },
} as const;

/** Provider rows whose static headers make the mock report cached / cache-write / reasoning tokens. */
const mockHeaders = { "x-mock-cached-tokens": "4", "x-mock-reasoning-tokens": "3" };
const gw = gateway({
  providers: {
    "m-openai": {
      kind: "openai",
      base_url: `${MOCK_URL}/v1`,
      api_key_secret: "MOCK_API_KEY",
      headers: mockHeaders,
    },
    "m-deepseek": {
      kind: "openai",
      base_url: `${MOCK_URL}/v1`,
      api_key_secret: "MOCK_API_KEY",
      headers: { "x-mock-cached-tokens": "5" },
    },
    "m-anthropic": {
      kind: "anthropic",
      base_url: MOCK_URL,
      api_key_secret: "MOCK_API_KEY",
      headers: { "x-mock-cached-tokens": "5", "x-mock-cache-write-tokens": "7" },
    },
    "m-gemini": {
      kind: "gemini",
      base_url: `${MOCK_URL}/v1beta`,
      api_key_secret: "MOCK_API_KEY",
      headers: { "x-mock-cached-tokens": "4", "x-mock-reasoning-tokens": "6" },
    },
    "m-slow": {
      kind: "openai",
      base_url: `${MOCK_URL}/v1`,
      api_key_secret: "MOCK_API_KEY",
      headers: { "x-mock-chunk-delay-ms": "40", "x-mock-words": "40" },
    },
  },
  routes: {
    "gpt-4.1": { targets: [{ provider: "m-openai", model: "gpt-4.1" }] },
    "deepseek-chat": { targets: [{ provider: "m-deepseek", model: "deepseek-chat" }] },
    "claude-sonnet-4-5": { targets: [{ provider: "m-anthropic", model: "claude-sonnet-4-5" }] },
    "gemini-2.5-flash": { targets: [{ provider: "m-gemini", model: "gemini-2.5-flash" }] },
    slow: { targets: [{ provider: "m-slow", model: "gpt-4.1" }] },
    "broken-stream": { targets: [{ provider: "m-slow", model: "gpt-4.1+fault=error-after-4" }] },
    unpriced: { targets: [{ provider: "m-openai", model: "mystery-model" }] },
  },
  prices: [
    { provider: "m-slow", model: "gpt-4.1+fault=error-after-4", input: 2, cached_input: 0.5, output: 8 },
  ],
});

const db = testDb();
const messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Tell me about sluice gates and their history please" },
];

interface Row {
  prompt_tokens: number;
  completion_tokens: number;
  cached_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  usage_source: string;
  status: number;
  error_code: string | null;
  stream: boolean;
  cost: string | null;
  unpriced: boolean;
}

/** The row of the one request sent with this x-request-id (the caller's label; rows are keyed by the gateway's id). */
async function rowOf(clientRequestId: string): Promise<Row> {
  const result = await db.execute(
    sql`select *, cost_usd::text as cost from usage_events where client_request_id = ${clientRequestId}`,
  );
  expect(result.rows, `usage row of ${clientRequestId}`).toHaveLength(1);
  return result.rows[0] as unknown as Row;
}

/** Exact decimal USD (12 places, as the numeric column prints it) of a row's tokens at list price. */
function listCost(model: keyof typeof PICO, row: Row): string {
  const p = PICO[model];
  const uncached = BigInt(row.prompt_tokens - row.cached_read_tokens - row.cache_write_tokens);
  const pico =
    uncached * p.input +
    BigInt(row.cached_read_tokens) * p.cached +
    BigInt(row.cache_write_tokens) * p.write +
    BigInt(row.completion_tokens) * p.output;
  return `${pico / 10n ** 12n}.${(pico % 10n ** 12n).toString().padStart(12, "0")}`;
}

type OpenAIUsage = {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
  cost: number | null;
};

async function chat(model: string, extra: Record<string, unknown> = {}) {
  const requestId = `golden-${crypto.randomUUID()}`;
  const res = await gw.fetch(
    "/v1/chat/completions",
    post({ model, messages, ...extra }, undefined, { "x-request-id": requestId }),
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as { usage: OpenAIUsage };
  return { requestId, res, usage: body.usage, row: await rowOf(requestId) };
}

describe("usage and cost per wire format", () => {
  it("OpenAI JSON: cached tokens inside prompt_tokens, reasoning inside completion_tokens", async () => {
    const { res, usage, row } = await chat("gpt-4.1");
    expect(row).toMatchObject({
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      cached_read_tokens: 4,
      reasoning_tokens: 3,
      usage_source: "provider",
      unpriced: false,
    });
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(4);
    expect(row.cost).toBe(listCost("gpt-4.1", row));
    expect(usage.cost).toBe(Number(row.cost));
    expect(res.headers.get("x-sluice-cost-usd")).toBe(String(Number(row.cost)));
  });

  it("DeepSeek: cache hits priced at the hit rate, misses at input", async () => {
    const { usage, row } = await chat("deepseek-chat");
    expect(row).toMatchObject({
      prompt_tokens: usage.prompt_tokens,
      cached_read_tokens: 5,
      completion_tokens: usage.completion_tokens,
    });
    expect(row.cost).toBe(listCost("deepseek-chat", row));
    expect(usage.cost).toBe(Number(row.cost));
  });

  it("Anthropic: cache reads and writes are parts of the prompt, each at its own rate", async () => {
    const { usage, row } = await chat("claude-sonnet-4-5");
    expect(row).toMatchObject({
      cached_read_tokens: 5,
      cache_write_tokens: 7,
      prompt_tokens: usage.prompt_tokens,
    });
    expect(row.prompt_tokens).toBeGreaterThan(12);
    expect(row.cost).toBe(listCost("claude-sonnet-4-5", row));
    expect(usage.cost).toBe(Number(row.cost));
  });

  it("Gemini: thinking tokens are billed as output", async () => {
    const { usage, row } = await chat("gemini-2.5-flash");
    expect(row).toMatchObject({
      cached_read_tokens: 4,
      reasoning_tokens: 6,
      completion_tokens: usage.completion_tokens,
    });
    expect(row.completion_tokens).toBeGreaterThanOrEqual(6);
    expect(row.cost).toBe(listCost("gemini-2.5-flash", row));
    expect(usage.cost).toBe(Number(row.cost));
  });

  it("tool calls: the row counts what the provider reported", async () => {
    const tools = [
      {
        type: "function",
        function: {
          name: "weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ];
    const { usage, row } = await chat("gpt-4.1", { tools });
    expect(row).toMatchObject({
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
    });
    expect(row.cost).toBe(listCost("gpt-4.1", row));
    expect(usage.cost).toBe(Number(row.cost));
  });

  it("stream: the final usage chunk carries the same cost as the row", async () => {
    const requestId = `golden-${crypto.randomUUID()}`;
    const { response, settled } = await gw.start(
      "/v1/chat/completions",
      post({ model: "gpt-4.1", messages, stream: true, stream_options: { include_usage: true } }, undefined, {
        "x-request-id": requestId,
      }),
    );
    const payloads = await readSse(response);
    await settled;
    const usageChunk = payloads
      .filter((p) => p !== "[DONE]")
      .map((p) => JSON.parse(p) as { choices: unknown[]; usage?: OpenAIUsage | null })
      .find((c) => c.usage);
    const row = await rowOf(requestId);
    expect(row).toMatchObject({
      stream: true,
      status: 200,
      prompt_tokens: usageChunk?.usage?.prompt_tokens,
      completion_tokens: usageChunk?.usage?.completion_tokens,
      cached_read_tokens: 4,
      usage_source: "provider",
    });
    expect(row.cost).toBe(listCost("gpt-4.1", row));
    expect(usageChunk?.usage?.cost).toBe(Number(row.cost));
  });

  it("client abort mid-stream: the row is estimated from what was delivered, never $0", async () => {
    const requestId = `golden-${crypto.randomUUID()}`;
    const { response, settled } = await gw.start(
      "/v1/chat/completions",
      post({ model: "slow", messages, stream: true }, undefined, { "x-request-id": requestId }),
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    await settled;
    const row = await rowOf(requestId);
    expect(row).toMatchObject({
      usage_source: "estimated",
      status: 499,
      error_code: "client_closed_request",
    });
    expect(row.prompt_tokens).toBeGreaterThan(0);
    expect(row.cost).toBe(listCost("gpt-4.1", row));
    expect(Number(row.cost)).toBeGreaterThan(0);
  });

  it("upstream error after a partial stream: status and error recorded, usage estimated and priced", async () => {
    const requestId = `golden-${crypto.randomUUID()}`;
    const { response, settled } = await gw.start(
      "/v1/chat/completions",
      post({ model: "broken-stream", messages, stream: true }, undefined, { "x-request-id": requestId }),
    );
    await response.text();
    await settled;
    const row = await rowOf(requestId);
    expect(row.status).toBeGreaterThanOrEqual(500);
    expect(row.error_code).not.toBeNull();
    expect(row.usage_source).toBe("estimated");
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.cost).toBe(listCost("gpt-4.1", row));
  });

  it("a model without a price: the caller gets a null cost, the row a null cost and the flag", async () => {
    const { usage, row, res } = await chat("unpriced");
    expect(usage.cost).toBeNull();
    expect(res.headers.get("x-sluice-cost-usd")).toBeNull();
    expect(row).toMatchObject({ cost: null, unpriced: true, prompt_tokens: usage.prompt_tokens });
  });
});
