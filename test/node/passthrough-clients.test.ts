import { createOpenAI } from "@ai-sdk/openai";
import { jsonSchema, stepCountIs, streamText, tool } from "ai";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";

// The Vercel AI SDK's Chat Completions provider on a `stream_passthrough` route of the served
// gateway (the dev config's gpt-4o-mini-passthrough): the provider's stream, forwarded by the
// runtime, read by a real client through a streamed two-step tool loop.

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings") as Record<string, string>;
const MODEL = "gpt-4o-mini-passthrough";
let apiKey: string;

beforeAll(async () => {
  const signer = await importSigningKey(bindings.SLUICE_SIGNING_KEY as string);
  const tenant = `passthrough-${crypto.randomUUID().slice(0, 8)}`;
  apiKey = (await mintKey(signer, { tenant, plan: "enterprise" }, { issuer: "sluice", audience: "sluice" }))
    .token;
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
    const calls: unknown[] = [];
    const result = streamText({
      model: chat(),
      prompt: "What is the weather in Paris?",
      tools: {
        get_weather: tool({
          description: "Weather for a city",
          inputSchema: jsonSchema<{ city: string }>({
            type: "object",
            properties: { city: { type: "string" } },
            required: ["city"],
            additionalProperties: false,
          }),
          execute: async (input) => {
            calls.push(input);
            return "Sunny, 21C";
          },
        }),
      },
      stopWhen: stepCountIs(2),
      // The mock calls a tool whenever one is offered: the second step must answer in text.
      prepareStep: ({ stepNumber }) => (stepNumber > 0 ? { toolChoice: "none" } : {}),
    });
    let text = "";
    for await (const part of result.textStream) text += part;
    expect(calls).toEqual([{ city: "mock-city" }]);
    expect(text).toContain("Mock reply to:");
    expect((await result.totalUsage).inputTokens).toBeGreaterThan(0);
  });
});
