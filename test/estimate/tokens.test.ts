import { describe, expect, it } from "vitest";
import {
  countTextTokens,
  estimatePromptTokens,
  estimateUsage,
  IMAGE_TOKENS,
  maxOutputTokens,
  requestWorstCase,
} from "../../src/estimate";

const FOX = "The quick brown fox jumps over the lazy dog."; // 10 tokens in o200k_base

describe("token estimates (gpt-tokenizer, o200k_base)", () => {
  it("counts text with the o200k_base encoding", () => {
    expect(countTextTokens("hello world")).toBe(2);
    expect(countTextTokens(FOX)).toBe(10);
    expect(countTextTokens("")).toBe(0);
  });

  it("counts special-token strings in user text as plain text instead of throwing", () => {
    expect(countTextTokens("<|endoftext|>")).toBeGreaterThan(1);
  });

  it("counts chat messages with 3 tokens of framing each, plus 3 for the reply", () => {
    const body = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: FOX },
        { role: "user", content: "hello world" },
      ],
    };
    expect(estimatePromptTokens(body)).toBe(3 + 10 + 3 + 2 + 3);
  });

  it("counts text parts like strings and images as a fixed count", () => {
    const asString = { messages: [{ role: "user", content: FOX }] };
    const asParts = {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: FOX },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          ],
        },
      ],
    };
    expect(estimatePromptTokens(asParts)).toBe(estimatePromptTokens(asString) + IMAGE_TOKENS);
  });

  it("counts tool calls and tool definitions", () => {
    const plain = { messages: [{ role: "user", content: "hi" }] };
    const withTools = {
      ...plain,
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    };
    expect(estimatePromptTokens(withTools)).toBeGreaterThan(estimatePromptTokens(plain) + 5);
  });

  it("counts completions prompts and embeddings inputs: strings, string arrays and token ids", () => {
    expect(estimatePromptTokens({ prompt: FOX })).toBe(10);
    expect(estimatePromptTokens({ input: [FOX, "hello world"] })).toBe(12);
    expect(estimatePromptTokens({ input: [1, 2, 3, 4] })).toBe(4);
    expect(estimatePromptTokens({ input: [[1, 2], [3]] })).toBe(3);
  });

  it("counts Anthropic-style system prompts and content blocks", () => {
    const body = {
      system: FOX,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "hello world" },
            { type: "image", source: {} },
          ],
        },
      ],
    };
    expect(estimatePromptTokens(body)).toBe(10 + 3 + 2 + IMAGE_TOKENS + 3);
  });

  it("extrapolates beyond its exact-count budget, staying close to the exact count", () => {
    const long = `${FOX} `.repeat(20_000); // 900,000 characters
    const exact = countTextTokens(long);
    const estimate = estimatePromptTokens({ input: [long.slice(0, 50_000), long.slice(50_000)] });
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.02);
  });

  it("reserves prompt + max output tokens (times n), with the route's default when the body sets none", () => {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
    const prompt = estimatePromptTokens(body);
    const reserve = (b: Record<string, unknown>) =>
      requestWorstCase({
        endpoint: "chat",
        body: b,
        promptTokens: estimatePromptTokens(b),
        maxOutputTokens: maxOutputTokens("chat", b) ?? 4096,
        targets: [],
        price: () => null,
      }).tokens;
    expect(reserve(body)).toBe(prompt + 4096);
    expect(reserve({ ...body, max_tokens: 100 })).toBe(prompt + 100);
    expect(reserve({ ...body, max_completion_tokens: 50, n: 3 })).toBe(prompt + 150);
  });

  it("reads the output cap per endpoint: max_completion_tokens first for chat, max_tokens for completions", () => {
    expect(maxOutputTokens("chat", { max_completion_tokens: 50, max_tokens: 100 })).toBe(50);
    expect(maxOutputTokens("chat", { max_completion_tokens: null, max_tokens: 100 })).toBe(100);
    expect(maxOutputTokens("chat", {})).toBeNull();
    expect(maxOutputTokens("completions", { max_completion_tokens: 50, max_tokens: 100 })).toBe(100);
    expect(maxOutputTokens("completions", {})).toBeNull();
    expect(maxOutputTokens("embeddings", { max_tokens: 100 })).toBe(0);
  });

  it("estimates unreported usage from the prompt estimate and the delivered text", () => {
    expect(estimateUsage(321, "hello world")).toEqual({
      promptTokens: 321,
      completionTokens: 2,
      cachedReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(estimateUsage(5, "").completionTokens).toBe(0);
  });
});
