import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { createKey, testGateway } from "../admin/support";
import { mockProviders, upstreamRequests } from "../support/gateway";

const config = {
  providers: mockProviders,
  routes: { cached: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], cache: { ttl_seconds: 600 } } },
};
const gw = testGateway({ env: { SLUICE_CONFIG: JSON.stringify(config) } });
const sdkFetch = (input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  return gw.fetch(url.pathname + url.search, input instanceof Request ? input : init);
};

describe("the official SDKs against cached answers", () => {
  it("openai: a JSON answer, then the same request streamed from the cache", async () => {
    const { key } = await createKey(gw.fetch);
    const client = new OpenAI({
      apiKey: key,
      baseURL: "http://sluice.test/v1",
      maxRetries: 0,
      fetch: sdkFetch,
    });
    const request = {
      model: "cached",
      temperature: 0,
      messages: [{ role: "user" as const, content: `sdk ${crypto.randomUUID()}` }],
    };
    const first = await client.chat.completions.create(request);
    const { data: stream, response } = await client.chat.completions
      .create({ ...request, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get("x-sluice-cache")).toBe("HIT");
    let text = "";
    let usage: unknown = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(first.choices[0]?.message.content);
    expect(usage).toMatchObject({ total_tokens: first.usage?.total_tokens, cost: 0 });
  });

  it("anthropic: a cached answer streams as Messages events", async () => {
    const { key } = await createKey(gw.fetch);
    const client = new Anthropic({
      apiKey: key,
      baseURL: "http://sluice.test",
      maxRetries: 0,
      fetch: sdkFetch,
    });
    const request = {
      model: "cached",
      max_tokens: 64,
      temperature: 0,
      messages: [{ role: "user" as const, content: `sdk ${crypto.randomUUID()}` }],
    };
    const first = await client.messages.create(request);
    const final = await client.messages.stream(request).finalMessage();
    expect(final.content).toEqual(first.content);
    expect(final.usage.output_tokens).toBe(first.usage.output_tokens);
    const marker = request.messages[0]?.content as string;
    const calls = (await upstreamRequests()).filter((r) => JSON.stringify(r.body).includes(marker));
    expect(calls).toHaveLength(1);
  });
});
