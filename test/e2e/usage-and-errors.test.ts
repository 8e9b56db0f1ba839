import OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { predictMockReply } from "../../local/mock-provider/predict";
import { clearUpstream, gateway, readSse, upstreamRequests } from "../support/gateway";
import { E2E_KEY, openaiFor, PROVIDER_OF, postJson, TRANSLATED_MODELS } from "./support";

const CACHE_OPTIONS = "+cached-tokens=4+cache-write-tokens=2+reasoning-tokens=5";
const FAULTS = ["status-429", "status-529", "status-400", "error-after-2", "drop-after-2"];

/** Per model: a route whose upstream reports cache and reasoning tokens, and one per fault. */
const routes: Record<string, unknown> = {};
const prices: Record<string, unknown>[] = [];
for (const model of TRANSLATED_MODELS) {
  const provider = PROVIDER_OF[model];
  routes[`${model}-cache`] = { targets: [{ provider, model: `${model}${CACHE_OPTIONS}` }] };
  prices.push({
    model: `${model}${CACHE_OPTIONS}`,
    input: 3,
    cached_input: 0.3,
    cache_write: 3.75,
    output: 15,
  });
  for (const fault of FAULTS) {
    routes[`${model}-${fault}`] = {
      targets: [{ provider, model: `${model}+fault=${fault}` }],
      retries: 0,
      idle_timeout_ms: 1_000,
    };
  }
}
const gw = gateway({ routes, prices }, { sleep: async () => {} });
const client = openaiFor(gw);

beforeEach(clearUpstream);

/** A body read to its end with a reader (an in-process text() hides a broken body). */
async function readAll(res: Response): Promise<{ text: string; broken: boolean }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read())
      text += decoder.decode(next.value, { stream: true });
    return { text, broken: false };
  } catch {
    return { text, broken: true };
  }
}

/** What the mock counted for the one request it received (format-neutral). */
async function mockUsage(model: string) {
  const [sent] = await upstreamRequests();
  if (!sent) throw new Error("the upstream received nothing");
  return model.startsWith("claude")
    ? predictMockReply("anthropic-messages", sent.body).usage
    : predictMockReply("gemini-generate", sent.body, { model: `${model}${CACHE_OPTIONS}` }).usage;
}

/** USD for the test price row: uncached input 3, cache read 0.3, cache write 3.75, output 15 per 1M. */
function expectedCost(u: {
  promptTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
}) {
  const uncached = u.promptTokens - u.cachedTokens - u.cacheWriteTokens;
  return (uncached * 3 + u.cachedTokens * 0.3 + u.cacheWriteTokens * 3.75 + u.outputTokens * 15) / 1e6;
}

describe.each(TRANSLATED_MODELS)("usage from %s in OpenAI's terms", (model) => {
  const request = {
    model: `${model}-cache`,
    messages: [{ role: "user" as const, content: "Count my tokens" }],
  };

  it("reports cached, cache-write and reasoning tokens on a JSON answer, priced accordingly", async () => {
    const answer = await client.chat.completions.create(request);
    const expected = await mockUsage(model);
    const usage = answer.usage as OpenAI.CompletionUsage & {
      cost: number;
      prompt_tokens_details: { cache_write_tokens?: number };
    };
    expect(usage.prompt_tokens).toBe(expected.promptTokens);
    expect(usage.completion_tokens).toBe(expected.outputTokens);
    expect(usage.total_tokens).toBe(expected.promptTokens + expected.outputTokens);
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(4);
    // Anthropic counts thinking inside output_tokens without a split; Gemini reports it apart.
    expect(usage.completion_tokens_details?.reasoning_tokens).toBe(model.startsWith("claude") ? 0 : 5);
    // Only Anthropic reports cache writes; Gemini has no such count.
    const writes = model.startsWith("claude") ? 2 : 0;
    expect(usage.prompt_tokens_details.cache_write_tokens ?? 0).toBe(writes);
    expect(usage.cost).toBeCloseTo(expectedCost({ ...expected, cacheWriteTokens: writes }), 12);
  });

  it("reports the same usage in the stream's usage chunk", async () => {
    const json = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: (OpenAI.CompletionUsage & { cost?: number }) | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toEqual(json.usage);
  });
});

describe.each(TRANSLATED_MODELS)("provider errors from %s", (model) => {
  it.each([
    ["status-429", 429, OpenAI.RateLimitError],
    ["status-529", 529, OpenAI.InternalServerError],
    ["status-400", 400, OpenAI.BadRequestError],
  ] as const)(
    "%s: the SDK raises its usual error with the status, OpenAI-shaped",
    async (fault, status, ErrorClass) => {
      const error = await client.chat.completions
        .create({ model: `${model}-${fault}`, messages: [{ role: "user", content: "x" }] })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(error).toBeInstanceOf(ErrorClass);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);

      const res = await gw.fetch(
        "/v1/chat/completions",
        postJson({ model: `${model}-${fault}`, messages: [{ role: "user", content: "x" }] }),
      );
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
      expect(body.error.message).toEqual(expect.any(String));
      expect(JSON.stringify(body)).not.toContain("mock-provider-key");
    },
  );

  it.each([
    ["status-429", 429, "rate_limit_error"],
    ["status-529", 529, "overloaded_error"],
    ["status-400", 400, "invalid_request_error"],
  ] as const)("%s on /v1/messages: Anthropic-shaped, same status", async (fault, status, type) => {
    const res = await gw.fetch("/v1/messages", {
      method: "POST",
      headers: {
        "x-api-key": E2E_KEY,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({
        model: `${model}-${fault}`,
        max_tokens: 10,
        messages: [{ role: "user", content: "x" }],
      }),
    });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ type: "error", error: { type, message: expect.any(String) } });
  });

  // error-after-2: the provider's own error event, passed on (test/proxy/mid-stream-error.test.ts);
  // drop-after-2: a cut connection, the gateway's own error.
  const midStreamErrors = {
    "error-after-2": { type: "api_error", code: model.startsWith("claude") ? "overloaded" : "internal" },
    "drop-after-2": { type: "server_error", code: expect.stringMatching(/^upstream_/) },
  };

  it.each(["error-after-2", "drop-after-2"] as const)(
    "%s mid-stream: the OpenAI stream ends with an error event, not [DONE]",
    async (fault) => {
      const res = await gw.fetch(
        "/v1/chat/completions",
        postJson({
          model: `${model}-${fault}`,
          messages: [{ role: "user", content: "Tell me a long story" }],
          stream: true,
        }),
      );
      expect(res.status).toBe(200);
      const payloads = await readSse(res);
      expect(payloads).not.toContain("[DONE]");
      const last = JSON.parse(payloads.at(-1) ?? "{}") as { error?: { type: string; code: string } };
      expect(last.error).toMatchObject(midStreamErrors[fault]);
      // Something reached the client before the failure: this was a cut, not a refused start.
      expect(payloads.length).toBeGreaterThan(1);
    },
  );

  it("error-after-2 mid-stream: the SDK's iteration throws instead of ending quietly", async () => {
    const stream = await client.chat.completions.create({
      model: `${model}-error-after-2`,
      messages: [{ role: "user", content: "Tell me a long story" }],
      stream: true,
    });
    const read = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it("drop-after-2 mid-stream on /v1/messages: no message_stop; an Anthropic error event, or a broken body when native", async () => {
    const res = await gw.fetch("/v1/messages", {
      method: "POST",
      headers: {
        "x-api-key": E2E_KEY,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({
        model: `${model}-drop-after-2`,
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content: "Tell me a long story" }],
      }),
    });
    const { text, broken } = await readAll(res);
    expect(text).toContain("event: message_start");
    expect(text).not.toContain("event: message_stop");
    // Claude's own stream is forwarded by the runtime: it breaks as the provider's did.
    if (PROVIDER_OF[model] === "mock-anthropic") expect(broken).toBe(true);
    else expect(text).toContain("event: error");
  });
});
