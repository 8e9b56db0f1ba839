import Anthropic from "@anthropic-ai/sdk";
import { sql } from "drizzle-orm";
import OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { E2E_KEY as KEY } from "../e2e/support";
import { testDb } from "../metering/support";
import { clearUpstream, gateway, post, readSse } from "../support/gateway";

/**
 * A provider that fails inside a stream it already started (mock fault `error-after-2`: two good
 * chunks, then the provider's own error event) has its error passed on: the caller gets the
 * provider's message, type and code in the caller's own format, and the usage row its code.
 */
const CASES = [
  {
    target: "OpenAI-compatible",
    provider: "mock",
    model: "gpt-4o-mini",
    // local/mock-provider/openai.ts: `data: {"error":{...}}`
    message: "The server had an error while processing your request.",
    openai: { type: "server_error", code: null },
    anthropicType: "api_error",
    rowCode: "upstream_stream_error",
  },
  {
    target: "Anthropic",
    provider: "mock-anthropic",
    model: "claude-sonnet-4-5",
    // local/mock-provider/anthropic.ts: `event: error` overloaded_error
    message: "Overloaded",
    openai: { type: "api_error", code: "overloaded" },
    anthropicType: "overloaded_error",
    rowCode: "overloaded",
  },
  {
    target: "Gemini",
    provider: "mock-gemini",
    model: "gemini-2.5-flash",
    // local/mock-provider/gemini.ts: `data: {"error":{"status":"INTERNAL",...}}`
    message: "An internal error has occurred.",
    openai: { type: "api_error", code: "internal" },
    anthropicType: "api_error",
    rowCode: "internal",
  },
] as const;

const routes: Record<string, unknown> = {};
const prices: Record<string, unknown>[] = [];
for (const c of CASES) {
  routes[`broken-${c.provider}`] = {
    targets: [{ provider: c.provider, model: `${c.model}+fault=error-after-2` }],
    retries: 0,
  };
  prices.push({ provider: c.provider, model: `${c.model}+fault=error-after-2`, input: 1, output: 1 });
}
// The same error before any chunk: nothing reached the caller yet, so another target may answer.
routes["error-first"] = {
  targets: [
    { provider: "mock", model: "gpt-4o-mini+fault=error-after-0" },
    { provider: "mock-b", model: "gpt-4o-mini" },
  ],
  retries: 0,
};
// ...and when no target is left, the caller reads the provider's own words.
routes["error-first-only"] = {
  targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5+fault=error-after-0" }],
  retries: 0,
};
prices.push({ provider: "mock-b", model: "gpt-4o-mini", input: 1, output: 1 });
const gw = gateway({ routes, prices });
const db = testDb();

beforeEach(clearUpstream);

/** The usage row of the one request sent with this caller label. */
async function rowOf(label: string): Promise<{ status: number; error_code: string | null }> {
  const result = await db.execute(
    sql`select status, error_code from usage_events where client_request_id = ${label}`,
  );
  expect(result.rows, `usage row of ${label}`).toHaveLength(1);
  return result.rows[0] as { status: number; error_code: string | null };
}

/** Sends a stream request, reads the whole answer, waits for the usage row. */
async function streamed(path: string, body: Record<string, unknown>) {
  const label = `mid-stream-${crypto.randomUUID()}`;
  const { response, settled } = await gw.start(
    path,
    post({ ...body, stream: true }, KEY, { "x-request-id": label, "anthropic-version": "2023-06-01" }),
  );
  expect(response.status).toBe(200);
  const text = await response.text();
  await settled;
  return { text, row: await rowOf(label) };
}

describe.each(CASES)("a provider's own mid-stream error from the $target target", (c) => {
  const model = `broken-${c.provider}`;
  const messages = [{ role: "user", content: "Tell me a long story" }];

  it("reaches an OpenAI-format caller as OpenAI's error event, never [DONE]", async () => {
    const { text, row } = await streamed("/v1/chat/completions", { model, messages });
    const payloads = await readSse(new Response(text));
    expect(payloads).not.toContain("[DONE]");
    // What came before the failure reached the client.
    expect(payloads.length).toBeGreaterThan(1);
    expect(JSON.parse(payloads.at(-1) ?? "{}")).toEqual({
      error: { message: c.message, type: c.openai.type, param: null, code: c.openai.code },
    });
    expect(row).toEqual({ status: 502, error_code: c.rowCode });
  });

  it("reaches an Anthropic-format caller as Anthropic's error event, never message_stop", async () => {
    const { text, row } = await streamed("/v1/messages", { model, messages, max_tokens: 100 });
    expect(text).toContain("event: message_start");
    expect(text).not.toContain("event: message_stop");
    const last = text.trim().split("\n\n").at(-1) ?? "";
    expect(last.split("\n")[0]).toBe("event: error");
    expect(JSON.parse(last.split("\n")[1]?.slice("data: ".length) ?? "{}")).toEqual({
      type: "error",
      error: { type: c.anthropicType, message: c.message },
    });
    expect(row).toEqual({ status: 502, error_code: c.rowCode });
  });
});

it("a provider's error before the first chunk falls back to the next target", async () => {
  const messages = [{ role: "user", content: "Tell me a long story" }];
  const res = await gw.fetch(
    "/v1/chat/completions",
    post({ model: "error-first", messages, stream: true }, KEY),
  );
  expect(res.status).toBe(200);
  expect(res.headers.get("x-sluice-provider")).toBe("mock-b");
  expect((await readSse(res)).at(-1)).toBe("[DONE]");
});

it("a provider's error before the first chunk with no target left is the provider's error", async () => {
  const messages = [{ role: "user", content: "Tell me a long story" }];
  const res = await gw.fetch(
    "/v1/chat/completions",
    post({ model: "error-first-only", messages, stream: true }, KEY),
  );
  expect(res.status).toBe(502);
  expect(await res.json()).toMatchObject({
    error: { message: "Overloaded", type: "api_error", code: "overloaded" },
  });
});

describe("the official SDKs see the provider's message", () => {
  const fetchVia =
    (prefix: string) =>
    async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : input);
      return gw.fetch(url.pathname.replace(/^\/v1/, prefix) + url.search, init);
    };

  it("openai: iterating the stream throws an APIError with it", async () => {
    const client = new OpenAI({
      apiKey: KEY,
      baseURL: "http://sluice.test/v1",
      maxRetries: 0,
      fetch: fetchVia("/v1"),
    });
    const stream = await client.chat.completions.create({
      model: "broken-mock-anthropic",
      messages: [{ role: "user", content: "Tell me a long story" }],
      stream: true,
    });
    const drain = async () => {
      for await (const _chunk of stream) {
        // read to the end
      }
    };
    await expect(drain()).rejects.toThrow(/Overloaded/);
  });

  it("@anthropic-ai/sdk: the stream fails with it", async () => {
    const client = new Anthropic({
      apiKey: KEY,
      baseURL: "http://sluice.test",
      maxRetries: 0,
      fetch: fetchVia("/v1"),
    });
    const stream = client.messages.stream({
      model: "broken-mock-anthropic",
      max_tokens: 100,
      messages: [{ role: "user", content: "Tell me a long story" }],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
  });
});
