import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockProvider, startMockProvider } from "../../local/mock-provider";
import { signatureOf } from "../../local/mock-provider/anthropic-thinking";

// The mock behaves like the real APIs where a gateway can get caching and thinking wrong:
// cache_control writes then reads a prefix within its TTL, thinking streams with a signature
// delta and is refused when sent back altered, and Gemini's countTokens is served.

let mock: MockProvider;
let client: Anthropic;

beforeAll(async () => {
  mock = await startMockProvider();
  client = new Anthropic({ apiKey: "sk-ant-test", baseURL: mock.url, maxRetries: 0 });
});
afterAll(async () => {
  await mock.close();
});

const system = (ttl?: "1h"): Anthropic.TextBlockParam[] => [
  {
    type: "text",
    text: `${crypto.randomUUID()} ${"words ".repeat(500)}`,
    cache_control: ttl ? { type: "ephemeral", ttl } : { type: "ephemeral" },
  },
];

describe("Anthropic cache_control", () => {
  it("writes a prefix the first time, reads it after; nothing without breakpoints", async () => {
    const prompt = system();
    const ask = (s: Anthropic.TextBlockParam[]) =>
      client.messages.create({
        model: "claude-sonnet-4-5",
        max_tokens: 10,
        system: s,
        messages: [{ role: "user", content: "Hi" }],
      });
    const first = await ask(prompt);
    const second = await ask(prompt);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(500);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
    const plain = await ask([{ type: "text", text: prompt[0]?.text ?? "" }]);
    expect(plain.usage.cache_creation_input_tokens).toBe(0);
    expect(plain.usage.cache_read_input_tokens).toBe(0);
  });

  it("reports 1-hour writes apart", async () => {
    const message = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 10,
      system: system("1h"),
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(message.usage.cache_creation?.ephemeral_1h_input_tokens).toBe(
      message.usage.cache_creation_input_tokens,
    );
    expect(message.usage.cache_creation?.ephemeral_5m_input_tokens).toBe(0);
  });
});

describe("Anthropic thinking", () => {
  it("streams a thinking block with a signature delta, and refuses it altered", async () => {
    const events: string[] = [];
    const stream = client.messages.stream({
      model: "claude-sonnet-4-5",
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Think first" }],
    });
    stream.on("streamEvent", (event) => {
      if (event.type === "content_block_delta") events.push(event.delta.type);
    });
    const final = await stream.finalMessage();
    expect(events).toContain("signature_delta");
    const thought = final.content[0];
    expect(thought?.type === "thinking" && thought.signature).toBe(
      thought?.type === "thinking" ? signatureOf(thought.thinking) : "",
    );
    const altered = client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [
        { role: "user", content: "Think first" },
        { role: "assistant", content: [{ ...(thought as Anthropic.ThinkingBlock), thinking: "changed" }] },
        { role: "user", content: "Again" },
      ],
    });
    await expect(altered).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });
});

describe("count endpoints", () => {
  it("Anthropic count_tokens and Gemini countTokens count as the mock bills", async () => {
    const anthropic = await client.messages.countTokens({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "one two three" }],
    });
    expect(anthropic.input_tokens).toBe(3 + 3);
    const gemini = await fetch(`${mock.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
      method: "POST",
      headers: { "x-goog-api-key": "g", "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "one two three" }] }] }),
    });
    expect(await gemini.json()).toEqual({ totalTokens: 3 + 3 });
  });
});
