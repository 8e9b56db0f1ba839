import type OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { usageRows } from "../admin/support";
import { clearUpstream, upstreamRequests } from "../support/gateway";
import {
  expectedCost,
  MODELS,
  type ResponsesGateway,
  responsesGateway,
  sdkFor,
  tenantKey,
  WEATHER_TOOL,
} from "./support";

// The official `openai` SDK's Responses API, unchanged, on every kind of route: an OpenAI-native
// provider (the body goes as it is), a chat-only OpenAI-compatible relay, Claude and Gemini (the
// last three translated through chat completions and back).

const gw: ResponsesGateway = responsesGateway();
let client: OpenAI;
let tenant: string;

beforeAll(async () => {
  const key = await tenantKey();
  tenant = key.tenant;
  client = sdkFor(gw, key.token);
});

/** The usage row of a response (its id is `resp_` + the request id without dashes). */
async function rowOf(responseId: string): Promise<Record<string, unknown>> {
  const hex = responseId.slice("resp_".length);
  const rows = await usageRows(tenant);
  const row = rows.find((r) => String(r.request_id).replaceAll("-", "") === hex);
  if (!row) throw new Error(`no usage row for ${responseId}`);
  return row;
}

/** The answer's usage and cost agree with the usage row and with the price book. */
async function expectMetered(response: OpenAI.Responses.Response, provider: string, model: string) {
  const usage = response.usage as OpenAI.Responses.ResponseUsage & { cost: number | null };
  expect(usage.input_tokens).toBeGreaterThan(0);
  expect(usage.output_tokens).toBeGreaterThan(0);
  const cost = expectedCost(gw, provider, model, usage);
  expect(cost).not.toBeNull();
  expect(usage.cost).toBe(cost);
  const row = await rowOf(response.id);
  expect(row).toMatchObject({
    endpoint: model === "gpt-4o-mini" ? "responses" : "chat",
    provider,
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    cached_read_tokens: usage.input_tokens_details.cached_tokens,
    reasoning_tokens: usage.output_tokens_details.reasoning_tokens,
    usage_source: "provider",
    status: 200,
  });
  expect(Number(row.cost_usd)).toBeCloseTo(cost ?? 0, 12);
}

describe.each(MODELS)("responses.create on %s", (model, provider) => {
  it("answers text, metered at the provider's usage times the price", async () => {
    const response = await client.responses.create({ model, input: "Say hello", instructions: "Be brief." });
    expect(response.object).toBe("response");
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(response.status).toBe("completed");
    expect(response.model).toContain(model === "gpt-4o-mini" ? "gpt-4o-mini" : model);
    expect(response.output_text).toContain("Mock reply to: Say hello");
    await expectMetered(response, provider, model);
  });

  it("answers with a JSON schema (text.format), parsed by the SDK", async () => {
    const response = await client.responses.create({
      model,
      input: "Name a city",
      text: {
        format: {
          type: "json_schema",
          name: "city",
          schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    });
    expect(response.status).toBe("completed");
    expect(response.output_text.length).toBeGreaterThan(0);
  });

  it("runs a two-turn function-tool loop with previous_response_id", async () => {
    const first = await client.responses.create({
      model,
      input: "What is the weather in Paris?",
      tools: [WEATHER_TOOL],
    });
    const call = first.output.find((item) => item.type === "function_call");
    if (call?.type !== "function_call") throw new Error("no function call");
    expect(call.name).toBe("get_weather");
    expect(JSON.parse(call.arguments)).toEqual({ city: "mock-city" });
    await clearUpstream();
    const second = await client.responses.create({
      model,
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "Sunny, 21C" }],
      tools: [WEATHER_TOOL],
      tool_choice: "none",
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toContain("Mock reply to:");
    // The upstream got the whole conversation: the question, the call and its output.
    const sent = JSON.stringify((await upstreamRequests()).at(-1)?.body);
    expect(sent).toContain("What is the weather in Paris?");
    expect(sent).toContain("Sunny, 21C");
    // Gemini has no call ids on its wire; the others get the call's id back.
    if (provider !== "mock-gemini") expect(sent).toContain(call.call_id);
    await expectMetered(second, provider, model);
  });

  it("streams with responses.stream, typed events and a final response with usage.cost", async () => {
    const stream = client.responses.stream({ model, input: "Stream a greeting" });
    const types: string[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(types[0]).toBe("response.created");
    expect(types).toContain("response.output_item.added");
    expect(types).toContain("response.output_text.done");
    expect(types.at(-1)).toBe("response.completed");
    expect(text).toContain("Mock reply to: Stream a greeting");
    const message = final.output.find((item) => item.type === "message");
    const part = message?.type === "message" ? message.content[0] : undefined;
    expect(part?.type === "output_text" && part.text).toBe(text);
    await expectMetered(final, provider, model);
  });

  it("streams a function call as function_call_arguments deltas", async () => {
    const stream = client.responses.stream({ model, input: "Weather in Rome?", tools: [WEATHER_TOOL] });
    let args = "";
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta") args += event.delta;
    }
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === "function_call");
    expect(call?.type === "function_call" && JSON.parse(call.arguments)).toEqual({ city: "mock-city" });
    expect(JSON.parse(args)).toEqual({ city: "mock-city" });
  });
});
