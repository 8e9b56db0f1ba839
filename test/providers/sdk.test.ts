/// <reference types="vite/client" />
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { createAnthropicEventEncoder, openAIResponseToAnthropic } from "../../src/inbound/anthropic";
import { adapterFor, type WireFormat } from "../../src/providers";
import { CONTEXT, replay, type SseText, sseText } from "./support";

/**
 * The official SDKs read what the translators produce: each SDK gets a `fetch` that answers with
 * a translated body, so nothing leaves the process. Upstream bodies come from the parity fixtures.
 */
const PARITY = import.meta.glob("./fixtures/*/parity-*.json", { eager: true, import: "default" }) as Record<
  string,
  { json: unknown; stream: SseText }
>;

const cases = Object.entries(PARITY).map(([path, fixture]) => ({
  kind: path.split("/")[2] as WireFormat,
  fixture,
}));

/** A `fetch` that answers every call with one fixed body. */
function answering(body: string, contentType: string): typeof fetch {
  return async () => new Response(body, { status: 200, headers: { "content-type": contentType } });
}

const sseOf = (payloads: string[]) => payloads.map((p) => `data: ${p}\n\n`).join("");

it("has parity fixtures for anthropic and gemini", () => {
  expect(cases.map((c) => c.kind).sort()).toEqual(["anthropic", "gemini"]);
});

describe.each(cases)("$kind upstream through the official SDKs", ({ kind, fixture }) => {
  const adapter = adapterFor(kind);
  const json = adapter.parseResponse("chat", fixture.json, CONTEXT).body;
  const streamed = replay(adapter.streamTranslator("chat", CONTEXT), sseText(fixture.stream)).payloads;

  it("openai SDK: the stream accumulates into the non-stream answer's tool calls", async () => {
    const client = new OpenAI({
      apiKey: "test",
      baseURL: "http://gateway.test/v1",
      fetch: answering(sseOf(streamed), "text/event-stream"),
    });
    const stream = client.chat.completions.stream({
      model: "my-model",
      messages: [{ role: "user", content: "Hi" }],
    });
    const final = await stream.finalChatCompletion();
    const fromJson = json.choices as OpenAI.ChatCompletion.Choice[];
    const calls = (c: OpenAI.ChatCompletion.Choice) =>
      (c.message.tool_calls ?? []).map((t) => {
        if (t.type !== "function") throw new Error("not a function call");
        return { id: t.id, name: t.function.name, arguments: JSON.parse(t.function.arguments) as unknown };
      });
    expect(final.choices.map(calls)).toEqual(fromJson.map(calls));
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(final.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it("openai SDK: the JSON answer parses", async () => {
    const client = new OpenAI({
      apiKey: "test",
      baseURL: "http://gateway.test/v1",
      fetch: answering(JSON.stringify(json), "application/json"),
    });
    const answer = await client.chat.completions.create({
      model: "my-model",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(answer.choices[0]?.message.tool_calls?.length).toBe(2);
  });

  it("anthropic SDK: messages.stream over the re-encoded events equals the message built from the JSON", async () => {
    const encoder = createAnthropicEventEncoder("claude-sonnet-4-5");
    const events = streamed.map((payload) => encoder.push(payload)).join("");
    const client = new Anthropic({
      apiKey: "test",
      baseURL: "http://gateway.test",
      fetch: answering(events, "text/event-stream"),
    });
    const stream = client.messages.stream({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    const final = await stream.finalMessage();
    const expected = openAIResponseToAnthropic(json, "claude-sonnet-4-5") as unknown as Anthropic.Message;
    expect(final.content).toEqual(expected.content);
    expect(final.stop_reason).toBe("tool_use");
    expect(final.usage.input_tokens).toBe(expected.usage.input_tokens);
    expect(final.usage.output_tokens).toBe(expected.usage.output_tokens);
  });

  it("anthropic SDK: messages.create reads the translated message", async () => {
    const body = JSON.stringify(openAIResponseToAnthropic(json, "claude-sonnet-4-5"));
    const client = new Anthropic({
      apiKey: "test",
      baseURL: "http://gateway.test",
      fetch: answering(body, "application/json"),
    });
    const message = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(message.content.filter((block) => block.type === "tool_use")).toHaveLength(2);
  });
});
