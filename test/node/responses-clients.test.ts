import { createOpenAI } from "@ai-sdk/openai";
import { Agent, tool as agentTool, Runner, setTracingDisabled } from "@openai/agents";
import { OpenAIProvider } from "@openai/agents-openai";
import { generateText } from "ai";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { freshTenantKey, WEATHER_PARAMETERS, weatherToolLoop } from "./client-support";

// Real clients of the Responses API against the served gateway (the built bundle on workerd, the
// dev config: gpt-4o-mini on an OpenAI-native provider, Claude translated through chat): the
// Vercel AI SDK's default `openai(model)` provider and the OpenAI Agents SDK.

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings") as Record<string, string>;
let apiKey: string;

beforeAll(async () => {
  apiKey = (await freshTenantKey("clients")).token;
});

const MODELS = ["gpt-4o-mini", "claude-sonnet-4-5"] as const;

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
    const { calls, text, totalUsage } = await weatherToolLoop(provider()(model));
    expect(calls).toEqual([{ city: "mock-city" }]);
    expect(text).toContain("Mock reply to:");
    expect(totalUsage.inputTokens).toBeGreaterThan(0);
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
      parameters: WEATHER_PARAMETERS,
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
