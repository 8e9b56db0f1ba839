import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { addCacheBreakpoints } from "../../src/providers/anthropic";
import { gateway, upstreamRequests } from "../support/gateway";
import { fetchVia, tenantKey } from "./support";

// Opt-in prompt caching for OpenAI-format callers: a route with `prompt_caching` adds Anthropic
// cache breakpoints on the stable prefix of Chat Completions bound for Claude, so a client that
// knows nothing of cache_control gets cache reads.
const gw = gateway({
  routes: {
    cached: { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }], prompt_caching: {} },
    "cached-1h": {
      targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }],
      prompt_caching: { ttl: "1h" },
    },
    plain: { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
  },
});
const { key } = await tenantKey("prompt-caching");
const client = new OpenAI({
  apiKey: key,
  baseURL: "http://sluice.test/v1",
  maxRetries: 0,
  fetch: fetchVia(gw),
});

const system = () => `${crypto.randomUUID()} ${"Answer as a patient librarian would. ".repeat(200)}`;
type Usage = OpenAI.CompletionUsage & {
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number };
};

/** The body the mock received for a request carrying `marker`. */
async function sentWith(marker: string): Promise<Record<string, unknown>> {
  const found = (await upstreamRequests()).filter((r) => JSON.stringify(r.body).includes(marker)).at(-1);
  if (!found) throw new Error("not sent");
  return found.body;
}

describe("prompt_caching on a route bound for Claude", () => {
  it("a repeated system prompt is read from cache on the second call", async () => {
    const prompt = system();
    const ask = async () =>
      (
        await client.chat.completions.create({
          model: "cached",
          messages: [
            { role: "system", content: prompt },
            { role: "user", content: "Hello" },
          ],
        })
      ).usage as Usage;
    const first = await ask();
    const second = await ask();
    expect(first.prompt_tokens_details?.cached_tokens ?? 0).toBe(0);
    expect(second.prompt_tokens_details?.cached_tokens).toBeGreaterThan(200);
    const sent = await sentWith(prompt);
    expect((sent.system as { cache_control?: unknown }[]).at(-1)?.cache_control).toEqual({
      type: "ephemeral",
    });
  });

  it("the next turn of a conversation reads the earlier turns from cache", async () => {
    const prompt = system();
    const turn1: OpenAI.ChatCompletionMessageParam[] = [
      { role: "system", content: prompt },
      { role: "user", content: `First question ${"with some detail ".repeat(50)}` },
    ];
    const answer = await client.chat.completions.create({ model: "cached", messages: turn1 });
    const turn2: OpenAI.ChatCompletionMessageParam[] = [
      ...turn1,
      { role: "assistant", content: answer.choices[0]?.message.content ?? "" },
      { role: "user", content: "And a follow-up" },
    ];
    const second = (await client.chat.completions.create({ model: "cached", messages: turn2 }))
      .usage as Usage;
    // Everything up to the first question was cached by turn 1: system and the question itself.
    expect(second.prompt_tokens_details?.cached_tokens).toBeGreaterThan(
      (answer.usage as Usage).prompt_tokens - 20,
    );
  });

  it("1-hour TTL when the route asks for it; nothing added on a route without the setting", async () => {
    const prompt = system();
    await client.chat.completions.create({
      model: "cached-1h",
      messages: [
        { role: "system", content: prompt },
        { role: "user", content: "Hi" },
      ],
    });
    expect(JSON.stringify(await sentWith(prompt))).toContain(
      '"cache_control":{"type":"ephemeral","ttl":"1h"}',
    );
    const plain = system();
    await client.chat.completions.create({
      model: "plain",
      messages: [
        { role: "system", content: plain },
        { role: "user", content: "Hi" },
      ],
    });
    expect(JSON.stringify(await sentWith(plain))).not.toContain("cache_control");
  });
});

describe("prompt_caching for the Responses API", () => {
  it("a repeated instructions prompt is read from cache on the second call", async () => {
    const instructions = system();
    const ask = () =>
      client.responses.create({ model: "cached", instructions, input: "Hello", store: false });
    const first = await ask();
    const second = await ask();
    expect(first.usage?.input_tokens_details.cached_tokens ?? 0).toBe(0);
    expect(second.usage?.input_tokens_details.cached_tokens).toBeGreaterThan(200);
  });
});

describe("addCacheBreakpoints", () => {
  it("stays within four breakpoints, counting the caller's own", () => {
    const text = (t: string, cached = false) => ({
      type: "text",
      text: t,
      ...(cached ? { cache_control: { type: "ephemeral" } } : {}),
    });
    const body: Record<string, unknown> = {
      system: [text("s")],
      tools: [{ name: "a" }, { name: "b" }],
      messages: [
        { role: "user", content: [text("u1", true)] },
        { role: "assistant", content: [text("a1")] },
        { role: "user", content: [text("u2", true)] },
        { role: "assistant", content: [text("a2")] },
        { role: "user", content: "u3" },
      ],
    };
    addCacheBreakpoints(body, "5m");
    expect(JSON.stringify(body).match(/cache_control/g)).toHaveLength(4);
    expect((body.system as Record<string, unknown>[])[0]?.cache_control).toBeDefined();
    expect(
      (body.messages as { content: Record<string, unknown>[] }[])[4]?.content[0]?.cache_control,
    ).toBeDefined();
  });
});
