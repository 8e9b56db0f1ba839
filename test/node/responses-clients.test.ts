import { createOpenAI } from "@ai-sdk/openai";
import { Agent, tool as agentTool, Runner, setTracingDisabled } from "@openai/agents";
import { OpenAIProvider } from "@openai/agents-openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";

// Real clients of the Responses API against the served gateway (the built bundle on workerd, the
// dev config: gpt-4o-mini on an OpenAI-native provider, Claude translated through chat): the
// Vercel AI SDK's default `openai(model)` provider and the OpenAI Agents SDK.

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings") as Record<string, string>;
let apiKey: string;

beforeAll(async () => {
  const signer = await importSigningKey(bindings.SLUICE_SIGNING_KEY as string);
  const tenant = `clients-${crypto.randomUUID().slice(0, 8)}`;
  apiKey = (await mintKey(signer, { tenant, plan: "enterprise" }, { issuer: "sluice", audience: "sluice" }))
    .token;
});

const MODELS = ["gpt-4o-mini", "claude-sonnet-4-5"] as const;

const weatherParameters = {
  type: "object" as const,
  properties: { city: { type: "string" as const } },
  required: ["city"],
  additionalProperties: false as const,
};

describe.each(MODELS)("Vercel AI SDK openai(%s): the Responses API provider", (model) => {
  const provider = () => createOpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey });

  it("generateText, through /v1/responses", async () => {
    const marker = `Say hello ${crypto.randomUUID().slice(0, 8)}`;
    const result = await generateText({ model: provider()(model), prompt: marker });
    expect(result.text).toContain(`Mock reply to: ${marker}`);
    const upstream = (await (await fetch(`${bindings.MOCK_PROVIDER_URL}/__mock/requests`)).json()) as {
      path: string;
      body: unknown;
    }[];
    const sent = upstream.find((r) => JSON.stringify(r.body).includes(marker));
    // Native for OpenAI: the SDK's Responses body reached the provider's /v1/responses.
    expect(sent?.path).toBe(model === "gpt-4o-mini" ? "/v1/responses" : "/v1/messages");
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.response.id).toMatch(/^resp_[0-9a-f]{32}$/);
  });

  it("streamText with a tool, two steps", async () => {
    const calls: unknown[] = [];
    const result = streamText({
      model: provider()(model),
      prompt: "What is the weather in Paris?",
      tools: {
        get_weather: tool({
          description: "Weather for a city",
          inputSchema: jsonSchema<{ city: string }>(weatherParameters),
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

describe.each(MODELS)("OpenAI Agents SDK on %s", (model) => {
  it("runs an agent with one function tool to its final output", async () => {
    setTracingDisabled(true);
    const runner = new Runner({
      modelProvider: new OpenAIProvider({ baseURL: `${gatewayUrl}/v1`, apiKey, useResponses: true }),
    });
    const calls: unknown[] = [];
    const getWeather = agentTool({
      name: "get_weather",
      description: "Weather for a city",
      parameters: weatherParameters,
      strict: true,
      execute: async (input) => {
        calls.push(input);
        return "Sunny, 21C";
      },
    });
    const agent = new Agent({
      name: "weather",
      instructions: "Answer with the weather.",
      model,
      tools: [getWeather],
      // The mock calls any tool it is offered, so the tool's answer is the agent's.
      toolUseBehavior: "stop_on_first_tool",
    });
    const result = await runner.run(agent, "What is the weather in Paris?", { maxTurns: 3 });
    expect(calls).toEqual([{ city: "mock-city" }]);
    expect(result.finalOutput).toBe("Sunny, 21C");
    expect(result.lastResponseId).toMatch(/^resp_[0-9a-f]{32}$/);
  });
});
