import { createOpenAI } from "@ai-sdk/openai";
import { streamText } from "ai";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { freshTenantKey, weatherToolLoop } from "./client-support";

// The Vercel AI SDK's Chat Completions provider on a `stream_passthrough` route of the served
// gateway (the dev config's gpt-4o-mini-passthrough): the provider's stream, forwarded by the
// runtime, read by a real client through a streamed two-step tool loop.

const gatewayUrl = inject("gatewayUrl");
const MODEL = "gpt-4o-mini-passthrough";
let apiKey: string;

beforeAll(async () => {
  apiKey = (await freshTenantKey("passthrough")).token;
});

describe("Vercel AI SDK openai.chat() on a stream_passthrough route", () => {
  const chat = () => createOpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey }).chat(MODEL);

  it("streamText: the text as the mock wrote it, and the provider's usage", async () => {
    const marker = `Say hello ${crypto.randomUUID().slice(0, 8)}`;
    const result = streamText({ model: chat(), prompt: marker });
    expect(await result.text).toContain(`Mock reply to: ${marker}`);
    const usage = await result.usage;
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeGreaterThan(0);
  });

  it("streamText with a tool, two steps", async () => {
    const { calls, text, totalUsage } = await weatherToolLoop(chat());
    expect(calls).toEqual([{ city: "mock-city" }]);
    expect(text).toContain("Mock reply to:");
    expect(totalUsage.inputTokens).toBeGreaterThan(0);
  });
});
