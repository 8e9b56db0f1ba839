import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { usageRows } from "../admin/support";
import { clearUpstream, MOCK_URL, post, upstreamRequests } from "../support/gateway";
import { RESPONSES_CONFIG, responsesGateway, tenantKey } from "./support";

// What every route does, on /v1/responses too: validation naming the param, built-in tools only
// where a target runs them, fallback before the first byte, streams cut short ending with an
// `error` event (never response.completed), reasoning mapped, and the gateway's headers.

/** USD per million tokens for the priced routes below (gpt-4o-mini's list prices). */
const PRICE = { input: 0.15, cached_input: 0.075, output: 0.6 };
/** Routes whose answers report cached and reasoning tokens, priced by this file. */
const PRICED = [
  ["priced-native", "mock-native", "gpt-4o-mini+cached-tokens=4+reasoning-tokens=3"],
  ["priced-relay", "mock-relay", "gpt-4o-mini+cached-tokens=4+reasoning-tokens=3"],
  ["priced-claude", "mock-anthropic", "claude-sonnet-4-5+cached-tokens=4"],
] as const;

const native = {
  kind: "openai",
  base_url: `${MOCK_URL}/v1`,
  api_key_secret: "MOCK_API_KEY",
  responses_api: true,
};
const gw = responsesGateway({
  ...RESPONSES_CONFIG,
  providers: { ...RESPONSES_CONFIG.providers, "mock-native-b": native },
  routes: {
    ...RESPONSES_CONFIG.routes,
    "cut-native": { targets: [{ provider: "mock-native", model: "gpt-4o-mini+fault=drop-after-4" }] },
    "cut-claude": {
      targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5+fault=drop-after-4" }],
    },
    "error-native": { targets: [{ provider: "mock-native", model: "gpt-4o-mini+fault=error-after-4" }] },
    "falls-back": {
      retries: 0,
      targets: [
        { provider: "mock-native", model: "gpt-4o-mini+fault=status-503" },
        { provider: "mock-native-b", model: "gpt-4o-mini" },
      ],
    },
    "reasoner-native": { targets: [{ provider: "mock-native", model: "o4-mini+reasoning-tokens=7" }] },
    "reasoner-relay": { targets: [{ provider: "mock-relay", model: "o4-mini+reasoning-tokens=7" }] },
    mixed: {
      targets: [
        { provider: "mock-native", model: "gpt-4o-mini" },
        { provider: "mock-anthropic", model: "claude-sonnet-4-5" },
      ],
    },
    "mixed-fallback": {
      retries: 0,
      targets: [
        { provider: "mock-native", model: "gpt-4o-mini+fault=status-503" },
        { provider: "mock-anthropic", model: "claude-sonnet-4-5" },
      ],
    },
    ...Object.fromEntries(
      PRICED.map(([name, provider, model]) => [name, { targets: [{ provider, model }] }]),
    ),
  },
  prices: PRICED.map(([, provider, model]) => ({ provider, model, ...PRICE })),
});
let key: { token: string; tenant: string };

beforeAll(async () => {
  key = await tenantKey();
});

const call = (body: Record<string, unknown>) => gw.fetch("/v1/responses", post(body, key.token));

/** The SSE events of a Responses stream, by `event:` name, with their data. */
async function events(response: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  return eventsOf(await response.text());
}

function eventsOf(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "null");
      return { event, data };
    });
}

describe("validation", () => {
  it.each([
    [{ input: "hi" }, "model"],
    [{ model: "gpt-4o-mini", input: 42 }, "input"],
    [{ model: "gpt-4o-mini", input: "hi", max_output_tokens: -1 }, "max_output_tokens"],
    [{ model: "gpt-4o-mini", input: "hi", text: { format: { type: "json_schema" } } }, "text.format.name"],
    [{ model: "gpt-4o-mini", input: [{ type: "function_call", name: "f" }] }, "input[0].call_id"],
    [{ model: "gpt-4o-mini", input: "hi", background: true }, "background"],
  ])("400 naming the param for %j", async (body, param) => {
    const response = await call(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { param: string; type: string } };
    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe(param);
  });
});

describe("hostile bodies", () => {
  const item = fc.oneof(
    fc.record(
      { type: fc.constantFrom("message", "function_call", "function_call_output", "reasoning", "x") },
      { requiredKeys: [] },
    ),
    fc.record({
      role: fc.constantFrom("user", "assistant", "system", "developer", "tool"),
      content: fc.oneof(
        fc.string(),
        fc.array(
          fc.record(
            {
              type: fc.constantFrom(
                "input_text",
                "input_image",
                "input_file",
                "output_text",
                "refusal",
                "zzz",
              ),
              text: fc.anything(),
              image_url: fc.anything(),
            },
            { requiredKeys: ["type"] },
          ),
        ),
      ),
    }),
    fc.record({
      type: fc.constant("function_call_output"),
      call_id: fc.string({ minLength: 1 }),
      output: fc.anything(),
    }),
    fc.anything(),
  );
  const body = fc.record(
    {
      input: fc.oneof(fc.string(), fc.array(item, { maxLength: 4 })),
      tools: fc.array(
        fc.oneof(
          fc.record({ type: fc.constantFrom("function", "web_search"), name: fc.string() }),
          fc.anything(),
        ),
        { maxLength: 2 },
      ),
      tool_choice: fc.anything(),
      text: fc.anything(),
      reasoning: fc.anything(),
      instructions: fc.anything(),
      previous_response_id: fc.oneof(fc.string(), fc.constant("constructor")),
    },
    { requiredKeys: ["input"] },
  );

  it.each(["gpt-4o-mini", "deepseek-chat", "claude-sonnet-4-5"])("%s: never a 500", async (model) => {
    await fc.assert(
      fc.asyncProperty(body, async (extra) => {
        const response = await call({ ...extra, model, max_output_tokens: 8 });
        expect(response.status).not.toBe(500);
        if (response.status >= 400)
          expect(((await response.json()) as { error: unknown }).error).toBeTruthy();
        else await response.text();
      }),
      { numRuns: 40 },
    );
  });
});

describe("built-in tools", () => {
  it("go as they are to a native route", async () => {
    await clearUpstream();
    const response = await call({ model: "gpt-4o-mini", input: "news?", tools: [{ type: "web_search" }] });
    expect(response.status).toBe(200);
    const sent = (await upstreamRequests()).at(-1);
    expect(sent?.path).toBe("/v1/responses");
    expect(sent?.body.tools).toEqual([{ type: "web_search" }]);
  });

  it.each(["deepseek-chat", "claude-sonnet-4-5", "gemini-2.5-flash"])(
    "are a clear 400 on %s",
    async (model) => {
      await clearUpstream();
      const response = await call({ model, input: "news?", tools: [{ type: "web_search" }] });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { param: string; message: string } };
      expect(error.param).toBe("tools[0].type");
      expect(error.message).toContain("'web_search' tool");
      expect(await upstreamRequests()).toHaveLength(0);
    },
  );
});

describe("native passthrough", () => {
  it("sends the body as it came with only the model rewritten", async () => {
    await clearUpstream();
    const body = {
      model: "gpt-4o-mini",
      input: "hi",
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "k1",
    };
    expect((await call(body)).status).toBe(200);
    expect((await upstreamRequests()).at(-1)?.body).toEqual({ ...body, model: "gpt-4o-mini" });
  });

  it("carries headers, Server-Timing and the gateway's id", async () => {
    const response = await call({ model: "gpt-4o-mini", input: "hi" });
    expect(response.headers.get("x-sluice-provider")).toBe("mock-native");
    expect(response.headers.get("x-sluice-attempts")).toBe("1");
    expect(Number(response.headers.get("x-sluice-cost-usd"))).toBeGreaterThan(0);
    expect(response.headers.get("server-timing")).toContain("limits");
    const json = (await response.json()) as { id: string };
    expect(json.id).toBe(`resp_${response.headers.get("x-request-id")?.replaceAll("-", "")}`);
  });
});

describe("a route mixing native and chat-only providers", () => {
  it("sends the native target the body as it is", async () => {
    await clearUpstream();
    const response = await call({ model: "mixed", input: "news?", tools: [{ type: "web_search" }] });
    expect(response.status).toBe(200);
    expect((await upstreamRequests()).map((r) => r.path)).toEqual(["/v1/responses"]);
  });

  it.each([false, true])("falls back to the chat target, translated (stream: %s)", async (stream) => {
    await clearUpstream();
    const response = await call({ model: "mixed-fallback", input: "hello there", stream });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-sluice-provider")).toBe("mock-anthropic");
    expect((await upstreamRequests()).map((r) => r.path)).toEqual(["/v1/responses", "/v1/messages"]);
    const text = await response.text();
    expect(text).toContain("Mock reply to: hello there");
    if (stream) expect(eventsOf(text).at(-1)?.event).toBe("response.completed");
    else expect(JSON.parse(text)).toMatchObject({ object: "response", status: "completed" });
  });

  it("never gives the chat target what only the native one can run", async () => {
    await clearUpstream();
    const response = await call({ model: "mixed-fallback", input: "news?", tools: [{ type: "web_search" }] });
    expect((await upstreamRequests()).map((r) => r.path)).toEqual(["/v1/responses"]);
    expect(response.status).toBeGreaterThanOrEqual(400);
  });
});

describe("failures", () => {
  it("falls back to the next target before the first byte", async () => {
    const response = await call({ model: "falls-back", input: "hi", stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-sluice-provider")).toBe("mock-native-b");
    expect(response.headers.get("x-sluice-attempts")).toBe("2");
    const seen = await events(response);
    expect(seen.at(-1)?.event).toBe("response.completed");
  });

  it.each(["cut-native", "cut-claude", "error-native"])(
    "%s: a stream cut short ends with error, never completed",
    async (model) => {
      const response = await call({ model, input: "tell me a long story", stream: true });
      expect(response.status).toBe(200);
      const seen = await events(response);
      expect(seen.map((e) => e.event)).not.toContain("response.completed");
      expect(seen.at(-1)?.event).toBe("error");
      expect(seen.at(-1)?.data).toMatchObject({ type: "error" });
      const rows = await usageRows(key.tenant);
      expect(rows.some((r) => r.requested_model === model && r.status === 502)).toBe(true);
    },
  );
});

describe("cost", () => {
  it.each([
    ["priced-native", 3],
    ["priced-relay", 3],
    ["priced-claude", 0],
  ])(
    "%s: usage.cost and the usage row are the provider's tokens times the price, cached and reasoning included",
    async (model, reasoning) => {
      for (const stream of [false, true]) {
        const response = await call({ model, input: "hi there", stream });
        const text = await response.text();
        const json = stream
          ? JSON.parse(/event: response.completed\ndata: (.*)/.exec(text)?.[1] ?? "null").response
          : JSON.parse(text);
        const usage = json.usage;
        // The mock: 2 words + 3 per message in, 4 of them cached; "Mock reply to: hi there" out.
        expect(usage).toMatchObject({
          input_tokens: 5,
          input_tokens_details: { cached_tokens: 4 },
          output_tokens: 5 + reasoning,
          output_tokens_details: { reasoning_tokens: reasoning },
        });
        const expected =
          ((5 - 4) * PRICE.input + 4 * PRICE.cached_input + (5 + reasoning) * PRICE.output) / 1e6;
        expect(usage.cost).toBeCloseTo(expected, 15);
        const id = String(json.id).slice("resp_".length);
        const row = (await usageRows(key.tenant)).find(
          (r) => String(r.request_id).replaceAll("-", "") === id,
        );
        expect(Number(row?.cost_usd)).toBeCloseTo(expected, 15);
        expect(row).toMatchObject({
          prompt_tokens: 5,
          cached_read_tokens: 4,
          reasoning_tokens: reasoning,
          stream,
        });
      }
    },
  );
});

describe("reservations", () => {
  it.each(["gpt-4o-mini", "claude-sonnet-4-5"])(
    "%s: max_output_tokens is reserved in the gate's round trip",
    async (model) => {
      const small = await tenantKey({ tpm: 500 });
      await clearUpstream();
      const big = await gw.fetch(
        "/v1/responses",
        post({ model, input: "hi", max_output_tokens: 1000 }, small.token),
      );
      expect(big.status).toBe(429);
      expect(await upstreamRequests()).toHaveLength(0);
      const fits = await gw.fetch(
        "/v1/responses",
        post({ model, input: "hi", max_output_tokens: 50 }, small.token),
      );
      expect(fits.status).toBe(200);
    },
  );
});

describe("reasoning", () => {
  it.each(["reasoner-native", "reasoner-relay"])(
    "%s: reasoning tokens reported and metered",
    async (model) => {
      const response = await call({ model, input: "think", reasoning: { effort: "low", summary: "auto" } });
      const json = (await response.json()) as {
        usage: { output_tokens_details: { reasoning_tokens: number } };
      };
      expect(json.usage.output_tokens_details.reasoning_tokens).toBe(7);
      const rows = await usageRows(key.tenant);
      expect(rows.some((r) => r.requested_model === model && r.reasoning_tokens === 7)).toBe(true);
    },
  );

  it("streams a native reasoning summary as its delta events", async () => {
    const response = await call({
      model: "reasoner-native",
      input: "think",
      reasoning: { summary: "auto" },
      stream: true,
    });
    const seen = (await events(response)).map((e) => e.event);
    expect(seen).toContain("response.reasoning_summary_text.delta");
    expect(seen.at(-1)).toBe("response.completed");
  });

  it("maps reasoning.effort to the chat reasoning_effort on translated routes", async () => {
    await clearUpstream();
    await call({
      model: "deepseek-chat",
      input: "think",
      reasoning: { effort: "high" },
      max_output_tokens: 50,
    });
    const sent = (await upstreamRequests()).at(-1)?.body;
    expect(sent).toMatchObject({ reasoning_effort: "high", max_completion_tokens: 50 });
  });
});
