import Anthropic from "@anthropic-ai/sdk";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  anthropicUsage,
  countMockTokens,
  geminiUsageMetadata,
  MESSAGE_OVERHEAD_TOKENS,
  type MockProvider,
  mockEmbedding,
  mockEmbeddingTokens,
  mockPromptTokens,
  mockReplyText,
  mockToolArguments,
  openaiUsage,
  predictMockReply,
  startMockProvider,
  TOOL_CALL_TOKENS,
} from "../../local/mock-provider";
import { waitFor } from "../../local/net";

// biome-ignore lint/suspicious/noExplicitAny: wire JSON is checked by shape in these tests.
type Json = any;

let mock: MockProvider;

beforeAll(async () => {
  mock = await startMockProvider();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.clear();
});

const OPENAI_AUTH = { authorization: "Bearer sk-test" };
const ANTHROPIC_AUTH = { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01" };
const GEMINI_AUTH = { "x-goog-api-key": "g-test" };

function post(
  path: string,
  body: unknown,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${mock.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

/** Reads a whole SSE body and returns its events. */
async function sseEvents(res: Response): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(await res.text());
  return events;
}

/** Reads an SSE body until it ends or fails; returns the events seen and the read error, if any. */
async function sseUntilError(res: Response): Promise<{ events: EventSourceMessage[]; error?: unknown }> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { events };
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    return { events, error };
  }
}

/** Reads SSE events until `count` have arrived; returns them and the still-open reader. */
async function readEvents(res: Response, count: number) {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  return { events, reader };
}

const lastRecord = () => mock.requests().at(-1);

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string" },
        days: { type: "integer" },
        unit: { type: "string", enum: ["c", "f"] },
      },
    },
  },
};
const TIME_TOOL = {
  type: "function",
  function: { name: "get_time", parameters: { type: "object", properties: {} } },
};

describe("token functions", () => {
  it("counts whitespace-separated words", () => {
    expect(countMockTokens("")).toBe(0);
    expect(countMockTokens("  Hello   there\nworld ")).toBe(3);
  });

  it("counts prompts per message with a fixed overhead in each chat format", () => {
    const chat = {
      messages: [
        { role: "system", content: "Be brief" },
        { role: "user", content: [{ type: "text", text: "Hello there" }] },
      ],
    };
    expect(mockPromptTokens("openai-chat", chat)).toBe(2 + 2 + 2 * MESSAGE_OVERHEAD_TOKENS);
    const anthropic = { system: "Be brief", messages: [{ role: "user", content: "Hello there" }] };
    expect(mockPromptTokens("anthropic-messages", anthropic)).toBe(10);
    const gemini = {
      systemInstruction: { parts: [{ text: "Be brief" }] },
      contents: [{ parts: [{ text: "Hello there" }] }],
    };
    expect(mockPromptTokens("gemini-generate", gemini)).toBe(10);
    expect(mockPromptTokens("openai-completions", { prompt: "Say this is a test" })).toBe(5);
    expect(mockEmbeddingTokens(["one two", "three"])).toBe(3);
    expect(mockEmbeddingTokens([[1, 2, 3, 4]])).toBe(4);
  });

  it("builds the default reply from the last user message, padded or cut by words", () => {
    expect(mockReplyText("What is the capital of France?")).toBe(
      "Mock reply to: What is the capital of France?",
    );
    expect(mockReplyText("a b c d e f g h i j")).toBe("Mock reply to: a b c d e f g h");
    expect(mockReplyText("Hi", { words: 6 })).toBe("Mock reply to: Hi lorem ipsum");
    expect(mockReplyText("Hi", { words: 2 })).toBe("Mock reply");
    expect(mockReplyText("Hi", { reply: "exact  text" })).toBe("exact  text");
  });
});

describe("OpenAI chat completions", () => {
  const body = {
    model: "gpt-4o",
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Hello there world" },
    ],
  };

  it("answers JSON with the deterministic reply and matching usage", async () => {
    const res = await post("/v1/chat/completions", body, OPENAI_AUTH);
    expect(res.status).toBe(200);
    const json: Json = await res.json();
    expect(json.object).toBe("chat.completion");
    expect(json.model).toBe("gpt-4o");
    expect(json.choices[0].message).toMatchObject({
      role: "assistant",
      content: "Mock reply to: Hello there world",
    });
    expect(json.choices[0].finish_reason).toBe("stop");
    expect(json.usage.prompt_tokens).toBe(3 + 3 + 2 * MESSAGE_OVERHEAD_TOKENS);
    expect(json.usage.completion_tokens).toBe(countMockTokens(json.choices[0].message.content));
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
    expect(json.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(json.usage).toEqual(openaiUsage(predictMockReply("openai-chat", body).usage, "gpt-4o"));
  });

  it("streams one word per chunk, ends with [DONE], and has no usage without include_usage", async () => {
    const res = await post("/v1/chat/completions", { ...body, stream: true }, OPENAI_AUTH);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await sseEvents(res);
    expect(events.at(-1)?.data).toBe("[DONE]");
    const chunks: Json[] = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && !("usage" in c))).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0].delta.content ?? "").join("");
    expect(text).toBe("Mock reply to: Hello there world");
    expect(chunks.filter((c) => c.choices[0].delta.content).length).toBe(countMockTokens(text));
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });

  it("adds the usage-only chunk with choices [] before [DONE] when include_usage is true", async () => {
    const streamed = { ...body, stream: true, stream_options: { include_usage: true } };
    const events = await sseEvents(await post("/v1/chat/completions", streamed, OPENAI_AUTH));
    expect(events.at(-1)?.data).toBe("[DONE]");
    const chunks: Json[] = events.slice(0, -1).map((e) => JSON.parse(e.data));
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual(openaiUsage(predictMockReply("openai-chat", body).usage, "gpt-4o"));
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("answers with a tool call whose arguments follow the tool's schema", async () => {
    const res = await post("/v1/chat/completions", { ...body, tools: [WEATHER_TOOL] }, OPENAI_AUTH);
    const json: Json = await res.json();
    expect(json.choices[0].finish_reason).toBe("tool_calls");
    expect(json.choices[0].message.content).toBeNull();
    const [call] = json.choices[0].message.tool_calls;
    expect(call).toMatchObject({ type: "function", function: { name: "get_weather" } });
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "mock-city", days: 42, unit: "c" });
    expect(json.usage.completion_tokens).toBe(TOOL_CALL_TOKENS);
  });

  it("streams tool calls as argument fragments that reassemble to the JSON arguments, two with parallel-tools", async () => {
    const streamed = { ...body, stream: true, tools: [WEATHER_TOOL, TIME_TOOL] };
    const events = await sseEvents(
      await post("/v1/chat/completions", streamed, { ...OPENAI_AUTH, "x-mock-parallel-tools": "2" }),
    );
    const calls: { id?: string; name?: string; args: string; fragments: number }[] = [];
    for (const e of events.slice(0, -1)) {
      for (const d of JSON.parse(e.data).choices[0]?.delta.tool_calls ?? []) {
        calls[d.index] ??= { args: "", fragments: 0 };
        const call = calls[d.index] as (typeof calls)[number];
        if (d.id) Object.assign(call, { id: d.id, name: d.function.name });
        if (d.function.arguments) {
          call.args += d.function.arguments;
          call.fragments++;
        }
      }
    }
    expect(calls.map((c) => c.name)).toEqual(["get_weather", "get_time"]);
    expect(JSON.parse(calls[0]?.args ?? "")).toEqual(mockToolArguments(WEATHER_TOOL.function.parameters));
    expect(calls[0]?.fragments).toBeGreaterThan(2);
    expect(JSON.parse(calls[1]?.args ?? "")).toEqual({});
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(JSON.parse(events.at(-2)?.data ?? "").choices[0].finish_reason).toBe("tool_calls");
  });

  it("calls the named tool, and answers text when tool_choice is none", async () => {
    const named = {
      ...body,
      tools: [WEATHER_TOOL, TIME_TOOL],
      tool_choice: { type: "function", function: { name: "get_time" } },
    };
    const json: Json = await (await post("/v1/chat/completions", named, OPENAI_AUTH)).json();
    expect(json.choices[0].message.tool_calls[0].function.name).toBe("get_time");
    const none = { ...body, tools: [WEATHER_TOOL], tool_choice: "none" };
    const text: Json = await (await post("/v1/chat/completions", none, OPENAI_AUTH)).json();
    expect(text.choices[0].message.content).toBe("Mock reply to: Hello there world");
  });

  it("reports cached and reasoning tokens inside prompt and completion tokens", async () => {
    const headers = { ...OPENAI_AUTH, "x-mock-cached-tokens": "4", "x-mock-reasoning-tokens": "7" };
    const json: Json = await (await post("/v1/chat/completions", body, headers)).json();
    expect(json.usage.prompt_tokens).toBe(12);
    expect(json.usage.prompt_tokens_details.cached_tokens).toBe(4);
    expect(json.usage.completion_tokens).toBe(6 + 7);
    expect(json.usage.completion_tokens_details.reasoning_tokens).toBe(7);
  });

  it("reports DeepSeek's cache hit and miss fields for deepseek models, set from the model suffix", async () => {
    const res = await post(
      "/v1/chat/completions",
      { ...body, model: "deepseek-chat+cached-tokens=100" },
      OPENAI_AUTH,
    );
    const json: Json = await res.json();
    expect(json.model).toBe("deepseek-chat");
    expect(json.usage).toMatchObject({
      prompt_tokens: 100,
      prompt_cache_hit_tokens: 100,
      prompt_cache_miss_tokens: 0,
    });
    expect(json.usage.prompt_tokens_details).toBeUndefined();
  });

  it("cuts the reply at max_tokens with finish_reason length, and honours x-mock-words and x-mock-reply", async () => {
    const cut: Json = await (
      await post("/v1/chat/completions", { ...body, max_tokens: 2 }, { ...OPENAI_AUTH, "x-mock-words": "50" })
    ).json();
    expect(cut.choices[0]).toMatchObject({ finish_reason: "length", message: { content: "Mock reply" } });
    const long: Json = await (
      await post("/v1/chat/completions", body, { ...OPENAI_AUTH, "x-mock-words": "50" })
    ).json();
    expect(long.usage.completion_tokens).toBe(50);
    const exact: Json = await (
      await post("/v1/chat/completions", body, { ...OPENAI_AUTH, "x-mock-reply": "Paris, of course." })
    ).json();
    expect(exact.choices[0].message.content).toBe("Paris, of course.");
  });

  it("refuses a request without a Bearer key with an OpenAI-shaped 401", async () => {
    const res = await post("/v1/chat/completions", body, {});
    expect(res.status).toBe(401);
    const json: Json = await res.json();
    expect(json.error).toMatchObject({ type: "invalid_request_error", param: null });
    expect(typeof json.error.message).toBe("string");
  });

  it("answers 400 for a request without messages and for an unknown mock option", async () => {
    expect((await post("/v1/chat/completions", { model: "gpt-4o" }, OPENAI_AUTH)).status).toBe(400);
    const typo = await post("/v1/chat/completions", { ...body, model: "gpt-4o+fualt=hang" }, OPENAI_AUTH);
    expect(typo.status).toBe(400);
    expect(((await typo.json()) as Json).error.message).toContain("fualt");
  });
});

describe("OpenAI legacy completions, embeddings and models", () => {
  it("answers legacy completions as JSON and as a stream", async () => {
    const body = { model: "gpt-3.5-turbo-instruct", prompt: "Say this is a test" };
    const json: Json = await (await post("/v1/completions", body, OPENAI_AUTH)).json();
    expect(json.object).toBe("text_completion");
    expect(json.choices[0].text).toBe("Mock reply to: Say this is a test");
    expect(json.usage.prompt_tokens).toBe(5);
    const events = await sseEvents(
      await post(
        "/v1/completions",
        { ...body, stream: true, stream_options: { include_usage: true } },
        OPENAI_AUTH,
      ),
    );
    const chunks: Json[] = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe(json.choices[0].text);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 8 } });
  });

  it("returns deterministic unit vectors with usage, honouring dimensions and base64", async () => {
    const body = { model: "text-embedding-3-small", input: ["hello world", "bye"], dimensions: 8 };
    const json: Json = await (await post("/v1/embeddings", body, OPENAI_AUTH)).json();
    expect(json.object).toBe("list");
    expect(json.data.map((d: Json) => d.index)).toEqual([0, 1]);
    expect(json.data[0].embedding).toEqual(mockEmbedding("hello world", 8));
    expect(json.data[0].embedding).not.toEqual(json.data[1].embedding);
    const norm = Math.hypot(...json.data[0].embedding);
    expect(norm).toBeCloseTo(1, 4);
    expect(json.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const b64: Json = await (
      await post("/v1/embeddings", { ...body, encoding_format: "base64" }, OPENAI_AUTH)
    ).json();
    const floats = new Float32Array(Uint8Array.from(Buffer.from(b64.data[0].embedding, "base64")).buffer);
    expect(Array.from(floats)).toEqual(mockEmbedding("hello world", 8).map(Math.fround));
    const plain: Json = await (
      await post("/v1/embeddings", { model: "text-embedding-3-small", input: "x" }, OPENAI_AUTH)
    ).json();
    expect(plain.data[0].embedding).toHaveLength(1536);
  });

  it("lists models and retrieves any id, without its mock suffix", async () => {
    const list: Json = await (await fetch(`${mock.url}/v1/models`, { headers: OPENAI_AUTH })).json();
    expect(list.object).toBe("list");
    expect(list.data.map((m: Json) => m.id)).toContain("gpt-4o");
    const one: Json = await (
      await fetch(`${mock.url}/v1/models/gpt-4o+words=3`, { headers: OPENAI_AUTH })
    ).json();
    expect(one).toMatchObject({ id: "gpt-4o", object: "model" });
  });
});

describe("Anthropic messages", () => {
  const body = {
    model: "claude-sonnet-4-5",
    max_tokens: 100,
    system: "You are terse.",
    messages: [{ role: "user", content: [{ type: "text", text: "Hello there world" }] }],
  };

  it("answers JSON with cache reads and writes reported apart from input_tokens", async () => {
    const headers = { ...ANTHROPIC_AUTH, "x-mock-cached-tokens": "5", "x-mock-cache-write-tokens": "2" };
    const res = await post("/v1/messages", body, headers);
    expect(res.status).toBe(200);
    const json: Json = await res.json();
    expect(json).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      stop_reason: "end_turn",
    });
    expect(json.content).toEqual([{ type: "text", text: "Mock reply to: Hello there world" }]);
    // prompt = 3 + 3 (system) + 3 + 3 (user) = 12; 5 read + 2 written leave 5 uncached.
    expect(json.usage).toMatchObject({
      input_tokens: 5,
      cache_read_input_tokens: 5,
      cache_creation_input_tokens: 2,
      output_tokens: 6,
    });
    expect(json.usage).toEqual(
      anthropicUsage(predictMockReply("anthropic-messages", body, { headers }).usage),
    );
  });

  it("streams message_start, text deltas, message_delta with usage and message_stop", async () => {
    const events = await sseEvents(await post("/v1/messages", { ...body, stream: true }, ANTHROPIC_AUTH));
    const types = events.map((e) => e.event);
    expect(types.slice(0, 3)).toEqual(["message_start", "content_block_start", "ping"]);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    const start: Json = JSON.parse(events[0]?.data ?? "");
    expect(start.message.usage.input_tokens).toBe(12);
    const text = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => JSON.parse(e.data).delta)
      .map((d: Json) => (d.type === "text_delta" ? d.text : ""))
      .join("");
    expect(text).toBe("Mock reply to: Hello there world");
    const delta: Json = JSON.parse(events.at(-2)?.data ?? "");
    expect(delta.delta.stop_reason).toBe("end_turn");
    expect(delta.usage.output_tokens).toBe(countMockTokens(text));
  });

  it("answers tool_use blocks, streamed as input_json_delta fragments", async () => {
    const tools = [{ name: "get_weather", input_schema: WEATHER_TOOL.function.parameters }];
    const json: Json = await (await post("/v1/messages", { ...body, tools }, ANTHROPIC_AUTH)).json();
    expect(json.stop_reason).toBe("tool_use");
    expect(json.content[0]).toMatchObject({
      type: "tool_use",
      name: "get_weather",
      input: { city: "mock-city" },
    });
    const events = await sseEvents(
      await post("/v1/messages", { ...body, tools, stream: true }, ANTHROPIC_AUTH),
    );
    const start: Json = JSON.parse(events.find((e) => e.event === "content_block_start")?.data ?? "");
    expect(start.content_block).toMatchObject({ type: "tool_use", name: "get_weather", input: {} });
    const fragments = events
      .filter((e) => e.event === "content_block_delta")
      .map((e) => JSON.parse(e.data).delta)
      .filter((d: Json) => d.type === "input_json_delta")
      .map((d: Json) => d.partial_json as string);
    expect(fragments.length).toBeGreaterThan(2);
    expect(JSON.parse(fragments.join(""))).toEqual(json.content[0].input);
  });

  it("requires x-api-key (401) and anthropic-version (400) with Anthropic's error shape", async () => {
    const noKey = await post("/v1/messages", body, { "anthropic-version": "2023-06-01" });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const noVersion = await post("/v1/messages", body, { "x-api-key": "k" });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  it("answers 529 overloaded_error for status-529", async () => {
    const res = await post(
      "/v1/messages",
      { ...body, model: "claude-sonnet-4-5+fault=status-529" },
      ANTHROPIC_AUTH,
    );
    expect(res.status).toBe(529);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
  });
});

describe("Gemini", () => {
  const body = {
    systemInstruction: { parts: [{ text: "You are terse." }] },
    contents: [{ role: "user", parts: [{ text: "Hello there world" }] }],
  };
  const path = (model: string, method: string) => `/v1beta/models/${model}:${method}`;

  it("answers generateContent with cached and thought tokens in usageMetadata", async () => {
    const headers = { ...GEMINI_AUTH, "x-mock-cached-tokens": "4", "x-mock-reasoning-tokens": "3" };
    const json: Json = await (await post(path("gemini-2.5-flash", "generateContent"), body, headers)).json();
    expect(json.candidates[0]).toMatchObject({
      content: { role: "model", parts: [{ text: "Mock reply to: Hello there world" }] },
      finishReason: "STOP",
    });
    expect(json.modelVersion).toBe("gemini-2.5-flash");
    expect(json.usageMetadata).toMatchObject({
      promptTokenCount: 12,
      cachedContentTokenCount: 4,
      candidatesTokenCount: 6,
      thoughtsTokenCount: 3,
      totalTokenCount: 12 + 6 + 3,
    });
    const plan = predictMockReply("gemini-generate", body, { headers, model: "gemini-2.5-flash" });
    expect(json.usageMetadata).toEqual(geminiUsageMetadata(plan.usage));
  });

  it("streams SSE chunks with the finish reason and full usage on the last one", async () => {
    const res = await post(`${path("gemini-2.5-flash", "streamGenerateContent")}?alt=sse`, body, GEMINI_AUTH);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const chunks: Json[] = (await sseEvents(res)).map((e) => JSON.parse(e.data));
    expect(chunks.length).toBe(6);
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join("")).toBe(
      "Mock reply to: Hello there world",
    );
    expect(chunks.slice(0, -1).every((c) => c.candidates[0].finishReason === undefined)).toBe(true);
    expect(chunks.at(-1).candidates[0].finishReason).toBe("STOP");
    expect(chunks.at(-1).usageMetadata).toMatchObject({ promptTokenCount: 12, candidatesTokenCount: 6 });
  });

  it("streams a JSON array without alt=sse", async () => {
    const res = await post(path("gemini-2.5-flash", "streamGenerateContent"), body, GEMINI_AUTH);
    const array: Json[] = JSON.parse(await res.text());
    expect(array.map((c) => c.candidates[0].content.parts[0].text).join("")).toBe(
      "Mock reply to: Hello there world",
    );
  });

  it("answers functionCall parts when tools are offered, taking the key from ?key=", async () => {
    const tools = [
      { functionDeclarations: [{ name: "get_weather", parameters: WEATHER_TOOL.function.parameters }] },
    ];
    const res = await post(`${path("gemini-2.5-flash", "generateContent")}?key=k`, { ...body, tools }, {});
    const json: Json = await res.json();
    expect(json.candidates[0].content.parts).toEqual([
      { functionCall: { name: "get_weather", args: { city: "mock-city", days: 42, unit: "c" } } },
    ]);
    const none = { ...body, tools, toolConfig: { functionCallingConfig: { mode: "NONE" } } };
    const text: Json = await (
      await post(path("gemini-2.5-flash", "generateContent"), none, GEMINI_AUTH)
    ).json();
    expect(text.candidates[0].content.parts[0].text).toBe("Mock reply to: Hello there world");
  });

  it("embeds one content and batches", async () => {
    const one: Json = await (
      await post(
        path("text-embedding-004", "embedContent"),
        { content: { parts: [{ text: "hi" }] } },
        GEMINI_AUTH,
      )
    ).json();
    expect(one.embedding.values).toEqual(mockEmbedding("hi", 768));
    const batch = {
      requests: ["a", "b"].map((text) => ({ content: { parts: [{ text }] }, outputDimensionality: 4 })),
    };
    const many: Json = await (
      await post(path("text-embedding-004", "batchEmbedContents"), batch, GEMINI_AUTH)
    ).json();
    expect(many.embeddings).toEqual([{ values: mockEmbedding("a", 4) }, { values: mockEmbedding("b", 4) }]);
  });

  it("refuses a missing key (403) and answers faults with Google's error shape", async () => {
    const noKey = await post(path("gemini-2.5-flash", "generateContent"), body, {});
    expect(noKey.status).toBe(403);
    expect(await noKey.json()).toMatchObject({ error: { code: 403, status: "PERMISSION_DENIED" } });
    const res = await post(path("gemini-2.5-flash+fault=status-503", "generateContent"), body, GEMINI_AUTH);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
  });
});

describe("faults", () => {
  const chat = (fault: string, extra: Record<string, unknown> = {}) => ({
    model: `gpt-4o+fault=${fault}`,
    messages: [{ role: "user", content: "one two three four" }],
    ...extra,
  });

  it("status-429-retry-2 answers 429 with Retry-After: 2 and an OpenAI error body", async () => {
    const res = await post("/v1/chat/completions", chat("status-429-retry-2"), OPENAI_AUTH);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    expect(await res.json()).toMatchObject({ error: { type: "requests", code: "rate_limit_exceeded" } });
  });

  it("applies a fault from the x-mock-fault header too", async () => {
    const plain = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };
    const res = await post("/v1/chat/completions", plain, { ...OPENAI_AUTH, "x-mock-fault": "status-500" });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: { type: "server_error" } });
  });

  it("hang never answers: the client times out and the request is recorded as cancelled", async () => {
    const request = post("/v1/chat/completions", chat("hang"), OPENAI_AUTH, AbortSignal.timeout(200));
    await expect(request).rejects.toThrow();
    await waitFor("hang recorded as cancelled", async () => lastRecord()?.cancelled === true, 5_000);
    expect(lastRecord()?.completed).toBe(false);
  });

  it("reset destroys the socket before any byte: fetch fails", async () => {
    await expect(post("/v1/chat/completions", chat("reset"), OPENAI_AUTH)).rejects.toThrow();
    expect(lastRecord()).toMatchObject({ cancelled: false, completed: false });
  });

  it("slow-first-byte delays the answer: a later plain request finishes first", async () => {
    const order: string[] = [];
    const slow = post("/v1/chat/completions", chat("slow-first-byte-400"), OPENAI_AUTH).then((r) => {
      order.push("slow");
      return r;
    });
    const fast = post("/v1/chat/completions", { ...chat(""), model: "gpt-4o" }, OPENAI_AUTH).then(() =>
      order.push("fast"),
    );
    const [slowRes] = await Promise.all([slow, fast]);
    expect(order).toEqual(["fast", "slow"]);
    expect(slowRes.status).toBe(200);
    expect(((await slowRes.json()) as Json).choices[0].message.content).toBe(
      "Mock reply to: one two three four",
    );
  });

  it("drop-after-2 sends two chunks, then the body read fails", async () => {
    const res = await post("/v1/chat/completions", chat("drop-after-2", { stream: true }), OPENAI_AUTH);
    expect(res.status).toBe(200);
    const { events, error } = await sseUntilError(res);
    expect(events).toHaveLength(2);
    expect(error).toBeDefined();
    expect(lastRecord()).toMatchObject({ cancelled: false, completed: false });
  });

  it("stall-after-2 sends two chunks, then nothing while the socket stays open", async () => {
    const controller = new AbortController();
    const res = await post(
      "/v1/chat/completions",
      chat("stall-after-2", { stream: true }),
      OPENAI_AUTH,
      controller.signal,
    );
    const { events, reader } = await readEvents(res, 2);
    expect(events).toHaveLength(2);
    const next = reader.read().then(
      () => "more bytes",
      () => "read failed",
    );
    const quiet = new Promise((resolve) => setTimeout(() => resolve("quiet"), 300));
    expect(await Promise.race([next, quiet])).toBe("quiet");
    controller.abort();
    await waitFor("stall recorded as cancelled", async () => lastRecord()?.cancelled === true, 5_000);
  });

  it("malformed-after-1 sends one good chunk, then a chunk of invalid JSON, then ends", async () => {
    const res = await post("/v1/chat/completions", chat("malformed-after-1", { stream: true }), OPENAI_AUTH);
    const events = await sseEvents(res);
    expect(events).toHaveLength(2);
    expect(() => JSON.parse(events[0]?.data ?? "")).not.toThrow();
    expect(() => JSON.parse(events[1]?.data ?? "")).toThrow();
  });

  it("malformed-after-N on a JSON answer sends a body that is not JSON", async () => {
    const res = await post("/v1/chat/completions", chat("malformed-after-1"), OPENAI_AUTH);
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  it("error-after-1 sends one chunk, then the format's in-stream error event", async () => {
    const openai = await sseEvents(
      await post("/v1/chat/completions", chat("error-after-1", { stream: true }), OPENAI_AUTH),
    );
    expect(openai).toHaveLength(2);
    expect(JSON.parse(openai[1]?.data ?? "")).toMatchObject({ error: { type: "server_error" } });
    const anthropicBody = {
      model: "claude-x+fault=error-after-1",
      max_tokens: 50,
      stream: true,
      messages: [{ role: "user", content: "hi" }],
    };
    const anthropic = await sseEvents(await post("/v1/messages", anthropicBody, ANTHROPIC_AUTH));
    expect(anthropic.map((e) => e.event)).toEqual(["message_start", "error"]);
    expect(JSON.parse(anthropic[1]?.data ?? "")).toMatchObject({
      type: "error",
      error: { type: "overloaded_error" },
    });
  });

  it("drop-after-N on a JSON answer sends half the body, then the read fails", async () => {
    const res = await post("/v1/chat/completions", chat("drop-after-1"), OPENAI_AUTH);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("close() ends hung answers, and the mock does not count them as client cancels", async () => {
    const other = await startMockProvider();
    const hung = fetch(`${other.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...OPENAI_AUTH },
      body: JSON.stringify(chat("hang")),
    });
    await waitFor("hung request recorded", async () => other.requests().length === 1, 5_000);
    await other.close();
    await expect(hung).rejects.toThrow();
    expect(other.requests()[0]).toMatchObject({ cancelled: false, completed: false });
  });

  it("times-2 fails the first two requests with the exact spec, then succeeds; clear() resets the count", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await post("/v1/chat/completions", chat("status-503,times-2"), OPENAI_AUTH)).status);
    }
    expect(statuses).toEqual([503, 503, 200]);
    mock.clear();
    expect((await post("/v1/chat/completions", chat("status-503,times-2"), OPENAI_AUTH)).status).toBe(503);
  });

  it("chunk-delay-ms slows a stream: a later undelayed stream finishes first", async () => {
    const order: string[] = [];
    const slow = post(
      "/v1/chat/completions",
      { ...chat(""), model: "gpt-4o+chunk-delay-ms=60", stream: true },
      OPENAI_AUTH,
    )
      .then((r) => r.text())
      .then(() => order.push("delayed"));
    const fast = post("/v1/chat/completions", { ...chat(""), model: "gpt-4o", stream: true }, OPENAI_AUTH)
      .then((r) => r.text())
      .then(() => order.push("plain"));
    await Promise.all([slow, fast]);
    expect(order).toEqual(["plain", "delayed"]);
  });
});

describe("recording and HTTP control", () => {
  it("records method, path, query, headers and body, and whether the answer completed", async () => {
    await post(
      "/v1beta/models/gemini-2.5-flash:generateContent?key=abc",
      { contents: [{ parts: [{ text: "hi" }] }] },
      {
        "x-extra": "1",
      },
    );
    const [record] = mock.requests();
    expect(record).toMatchObject({
      id: expect.any(Number),
      method: "POST",
      path: "/v1beta/models/gemini-2.5-flash:generateContent",
      query: { key: "abc" },
      body: { contents: [{ parts: [{ text: "hi" }] }] },
      cancelled: false,
      completed: true,
    });
    expect(record?.headers["x-extra"]).toBe("1");
  });

  it("serves GET /__mock/requests and POST /__mock/clear, neither recorded", async () => {
    await post(
      "/v1/chat/completions",
      { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
      OPENAI_AUTH,
    );
    const listed: Json[] = await (await fetch(`${mock.url}/__mock/requests`)).json();
    expect(listed.map((r) => r.path)).toEqual(["/v1/chat/completions"]);
    expect((await fetch(`${mock.url}/__mock/clear`, { method: "POST" })).status).toBe(200);
    expect(await (await fetch(`${mock.url}/__mock/requests`)).json()).toEqual([]);
    expect(mock.requests()).toEqual([]);
  });
});

describe("official SDKs against the mock", () => {
  it("openai: chat, stream, embeddings and models.list", async () => {
    const client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    const messages = [{ role: "user" as const, content: "Hello from the SDK" }];
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages });
    expect(completion.choices[0]?.message.content).toBe("Mock reply to: Hello from the SDK");
    expect(completion.usage?.prompt_tokens).toBe(mockPromptTokens("openai-chat", { messages }));

    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Mock reply to: Hello from the SDK");
    expect(usage?.completion_tokens).toBe(countMockTokens(text));

    // The SDK asks for base64 by default and decodes it to floats.
    const embedding = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: "hi",
      dimensions: 16,
    });
    expect(embedding.data[0]?.embedding).toEqual(mockEmbedding("hi", 16).map(Math.fround));

    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("gpt-4o-mini");
  });

  it("anthropic: messages.create and a streamed message", async () => {
    const client = new Anthropic({ baseURL: mock.url, apiKey: "sk-ant-test", maxRetries: 0 });
    const params = {
      model: "claude-haiku-4-5",
      max_tokens: 64,
      messages: [{ role: "user" as const, content: "Hi Claude" }],
    };
    const message = await client.messages.create(params);
    expect(message.content[0]).toEqual({ type: "text", text: "Mock reply to: Hi Claude" });
    const final = await client.messages.stream(params).finalMessage();
    expect(final.content[0]).toMatchObject({ type: "text", text: "Mock reply to: Hi Claude" });
    expect(final.usage.output_tokens).toBe(5);
  });

  it("openai: a 503 fault surfaces as an APIError with the status", async () => {
    const client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    const failing = client.chat.completions.create({
      model: "gpt-4o+fault=status-503",
      messages: [{ role: "user", content: "hi" }],
    });
    await expect(failing).rejects.toMatchObject({ status: 503 });
  });
});
