import type OpenAI from "openai";
import { beforeEach, describe, expect, it } from "vitest";
import { clearUpstream, gateway, upstreamRequests } from "../support/gateway";
import {
  assembleToolCalls,
  callShapes,
  jsonToolCalls,
  openaiFor,
  PIXEL_PNG_BASE64,
  PROVIDER_OF,
  TRANSLATED_MODELS,
  TRANSLATED_ROUTES,
  WEATHER_TOOLS,
} from "./support";

/** Each translated model, plus a variant whose upstream answers with three parallel tool calls. */
const routes: Record<string, unknown> = { ...TRANSLATED_ROUTES };
for (const model of TRANSLATED_MODELS) {
  routes[`${model}-parallel`] = {
    targets: [{ provider: PROVIDER_OF[model], model: `${model}+parallel-tools=3` }],
  };
}
const gw = gateway({ routes });
const client = openaiFor(gw);

beforeEach(clearUpstream);

describe.each(TRANSLATED_MODELS)("the official openai SDK on %s", (model) => {
  it("creates a chat completion", async () => {
    const answer = await client.chat.completions.create({
      model,
      messages: [
        { role: "system", content: "Be brief" },
        { role: "user", content: "Say hello to the gateway" },
      ],
    });
    expect(answer.object).toBe("chat.completion");
    expect(answer.model).toBe(model);
    expect(answer.choices[0]?.message.content).toBe("Mock reply to: Say hello to the gateway");
    expect(answer.choices[0]?.finish_reason).toBe("stop");
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(answer.usage?.total_tokens).toBe(
      (answer.usage?.prompt_tokens ?? 0) + (answer.usage?.completion_tokens ?? 0),
    );
  });

  it("streams the same text, usage last when asked for", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Stream me some words" }];
    const json = await client.chat.completions.create({ model, messages });
    const stream = await client.chat.completions.create({
      model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(json.choices[0]?.message.content);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.prompt_tokens).toBe(json.usage?.prompt_tokens);
    expect(last?.usage?.completion_tokens).toBe(json.usage?.completion_tokens);
  });

  it("works with the .stream() helper", async () => {
    const runner = client.chat.completions.stream({
      model,
      messages: [{ role: "user", content: "Helper stream please" }],
    });
    const deltas: string[] = [];
    runner.on("content", (delta) => deltas.push(delta));
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe("Mock reply to: Helper stream please");
    expect(deltas.join("")).toBe(final.choices[0]?.message.content);
    expect(final.choices[0]?.finish_reason).toBe("stop");
  });

  it("streams tool-call deltas that reassemble into exactly the non-stream tool calls", async () => {
    const request = {
      model,
      messages: [{ role: "user" as const, content: "Weather in Paris?" }],
      tools: WEATHER_TOOLS,
      tool_choice: { type: "function" as const, function: { name: "get_weather" } },
    };
    const json = await client.chat.completions.create(request);
    const expected = jsonToolCalls(json);
    expect(expected.map((c) => c.name)).toEqual(["get_weather"]);
    expect(json.choices[0]?.finish_reason).toBe("tool_calls");

    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true }))
      chunks.push(chunk);
    const streamed = assembleToolCalls(chunks);
    expect(callShapes(streamed)).toEqual(callShapes(expected));
    expect(streamed.map((c) => c.index)).toEqual([0]);
    expect(streamed[0]?.id).toMatch(/\S/);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("reassembles parallel tool calls, each under its own index and id", async () => {
    const request = {
      model: `${model}-parallel`,
      messages: [{ role: "user" as const, content: "Weather and time in Paris?" }],
      tools: WEATHER_TOOLS,
    };
    const json = await client.chat.completions.create(request);
    const expected = jsonToolCalls(json);
    expect(expected).toHaveLength(3);
    expect(new Set(expected.map((c) => c.id)).size).toBe(3);

    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ ...request, stream: true }))
      chunks.push(chunk);
    const streamed = assembleToolCalls(chunks);
    expect(streamed.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(streamed.map((c) => c.id)).size).toBe(3);
    expect(callShapes(streamed)).toEqual(callShapes(expected));

    // The SDK's own accumulator agrees.
    const final = await client.chat.completions.stream(request).finalChatCompletion();
    expect(callShapes(jsonToolCalls(final))).toEqual(callShapes(expected));
  });

  it("sends tool results back and gets a text answer", async () => {
    const answer = await client.chat.completions.create({
      model,
      tools: WEATHER_TOOLS,
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "Sunny, 21C" },
        { role: "user", content: "Thanks, and tomorrow?" },
      ],
      tool_choice: "none",
    });
    expect(answer.choices[0]?.message.content).toContain("Thanks, and tomorrow?");
    expect(answer.choices[0]?.message.tool_calls ?? []).toEqual([]);
    const [sent] = await upstreamRequests();
    const body = JSON.stringify(sent?.body);
    if (model.startsWith("claude")) {
      expect(body).toContain('"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}');
      expect(body).toContain('"type":"tool_result","tool_use_id":"call_1"');
    } else {
      expect(body).toContain('"functionCall":{"name":"get_weather","args":{"city":"Paris"}');
      expect(body).toContain('"functionResponse":{"name":"get_weather"');
    }
    expect(body).toContain("Sunny, 21C");
  });

  it("passes an image data-URL part to the upstream as inline bytes", async () => {
    const answer = await client.chat.completions.create({
      model,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Describe this pixel" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL_PNG_BASE64}` } },
          ],
        },
      ],
    });
    expect(answer.choices[0]?.message.content).toBe("Mock reply to: Describe this pixel");
    const [sent] = await upstreamRequests();
    const content = JSON.stringify(sent?.body);
    if (model.startsWith("claude")) {
      expect(content).toContain(
        JSON.stringify({
          type: "image",
          source: { type: "base64", media_type: "image/png", data: PIXEL_PNG_BASE64 },
        }),
      );
    } else {
      expect(content).toContain(
        JSON.stringify({ inlineData: { mimeType: "image/png", data: PIXEL_PNG_BASE64 } }),
      );
    }
  });
});
