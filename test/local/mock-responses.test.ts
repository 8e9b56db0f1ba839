import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockProvider, startMockProvider } from "../../local/mock-provider";
import { MOCK_REASONING_SUMMARY } from "../../local/mock-provider/openai-responses";

// The mock's OpenAI Responses API (POST /v1/responses), read by the official SDK: JSON, every
// stream event, function calls, reasoning items, usage, and faults.

let mock: MockProvider;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockProvider();
  client = new OpenAI({ apiKey: "sk-test", baseURL: `${mock.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await mock.close();
});

const weather = {
  type: "function" as const,
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

describe("mock /v1/responses", () => {
  it("answers JSON with the reply, its usage and the echoed settings", async () => {
    const response = await client.responses.create({
      model: "gpt-4.1",
      input: "Say hello",
      instructions: "Be brief",
    });
    expect(response.output_text).toBe("Mock reply to: Say hello");
    // Prompt: (2 words + 3) for the instructions, (2 + 3) for the input.
    expect(response.usage).toMatchObject({ input_tokens: 10, output_tokens: 5, total_tokens: 15 });
    expect(response.instructions).toBe("Be brief");
  });

  it("calls the offered function, then answers in text after its output", async () => {
    const first = await client.responses.create({ model: "gpt-4.1", input: "Weather?", tools: [weather] });
    const call = first.output[0];
    expect(call).toMatchObject({
      type: "function_call",
      name: "get_weather",
      arguments: '{"city":"mock-city"}',
    });
    if (call?.type !== "function_call") throw new Error("no call");
    const second = await client.responses.create({
      model: "gpt-4.1",
      input: [call, { type: "function_call_output", call_id: call.call_id, output: "Sunny" }],
      tools: [weather],
    });
    expect(second.output_text).toContain("Mock reply to:");
  });

  it("reports reasoning as a reasoning item with a summary, and its tokens", async () => {
    const response = await client.responses.create({ model: "o4-mini+reasoning-tokens=9", input: "Think" });
    expect(response.output[0]).toMatchObject({
      type: "reasoning",
      summary: [{ text: MOCK_REASONING_SUMMARY }],
    });
    expect(response.usage?.output_tokens_details.reasoning_tokens).toBe(9);
  });

  it("streams every event, numbered, ending with response.completed", async () => {
    const stream = client.responses.stream({
      model: "o4-mini+reasoning-tokens=3",
      input: "Stream it",
      tools: [weather],
    });
    const events: { type: string; sequence_number: number }[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
    expect(types).toContain("response.reasoning_summary_text.delta");
    expect(types).toContain("response.function_call_arguments.delta");
    expect(types.at(-1)).toBe("response.completed");
    expect(final.usage?.output_tokens).toBe(13);
  });

  it("ends a length-cut stream with response.incomplete", async () => {
    const stream = client.responses.stream({
      model: "gpt-4.1",
      input: "one two three four",
      max_output_tokens: 2,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe("response.incomplete");
  });

  it("fails a stream with the Responses API's error event (fault error-after-N)", async () => {
    const stream = client.responses.stream({ model: "gpt-4.1+fault=error-after-3", input: "hi" });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    // The SDK hands the error event over as an event, and the final response fails with it.
    expect(types).toHaveLength(4);
    expect(types.at(-1)).toBe("error");
    await expect(stream.finalResponse()).rejects.toThrow(/server had an error/);
  });

  it("answers a status fault in OpenAI's error shape", async () => {
    await expect(
      client.responses.create({ model: "gpt-4.1+fault=status-429", input: "hi" }),
    ).rejects.toMatchObject({
      status: 429,
    });
  });

  it("refuses previous_response_id: the gateway must send the whole conversation", async () => {
    await expect(
      client.responses.create({ model: "gpt-4.1", input: "hi", previous_response_id: "resp_1" }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
