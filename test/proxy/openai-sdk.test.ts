import { exports } from "cloudflare:workers";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { DEMO_KEY } from "../support/gateway";

const sluiceFetch = (input: string | URL | Request, init?: RequestInit) =>
  exports.default.fetch(new Request(input, init));

/** The official SDK, unchanged, pointed at the worker (its fetch goes to the worker's entry). */
const client = new OpenAI({
  apiKey: DEMO_KEY,
  baseURL: "http://sluice.test/v1",
  maxRetries: 0,
  fetch: sluiceFetch,
});

describe("the official openai SDK", () => {
  it("creates a chat completion", async () => {
    const answer = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(answer.choices[0]?.message.content).toContain("Mock reply to: Say hello");
    expect(answer.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("streams a chat completion", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain("Mock reply to: Stream please");
    expect(usage?.prompt_tokens).toBe(5);
  });

  it("works with the .stream() helper", async () => {
    const runner = client.chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Helper stream" }],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toContain("Mock reply to: Helper stream");
  });

  it("creates embeddings", async () => {
    const result = await client.embeddings.create({ model: "text-embedding-3-small", input: ["one", "two"] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
  });

  it("lists models", async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"]));
    expect((await client.models.retrieve("gpt-4.1")).id).toBe("gpt-4.1");
  });

  it("raises NotFoundError for an unknown model", async () => {
    await expect(
      client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("raises BadRequestError for invalid params", async () => {
    await expect(
      client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "x" }],
        temperature: 7,
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("raises AuthenticationError for a wrong key", async () => {
    const wrong = new OpenAI({
      apiKey: "sk-sluice-nope",
      baseURL: "http://sluice.test/v1",
      maxRetries: 0,
      fetch: sluiceFetch,
    });
    await expect(wrong.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
