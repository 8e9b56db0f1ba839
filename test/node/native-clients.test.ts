import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { GoogleGenAI } from "@google/genai";
import { embed, generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { freshTenantKey } from "./client-support";

// Real clients of the native APIs against the served gateway (the built bundle on workerd, the dev
// config): the Google Gen AI SDK on /v1beta (Gemini natively, OpenAI translated), and the Vercel
// AI SDK's Anthropic and Google providers with baseURL at sluice.

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings") as Record<string, string>;
const mockUrl = bindings.MOCK_PROVIDER_URL as string;
let apiKey: string;

beforeAll(async () => {
  apiKey = (await freshTenantKey("native")).token;
});

/** What the mock received, found by a marker in the body. */
async function upstreamWith(
  marker: string,
): Promise<{ path: string; body: unknown; query: Record<string, string> } | undefined> {
  const all = (await (await fetch(`${mockUrl}/__mock/requests`)).json()) as {
    path: string;
    body: unknown;
    query: Record<string, string>;
  }[];
  return all.find((r) => JSON.stringify(r.body).includes(marker));
}

const weather = {
  type: "object" as const,
  properties: { city: { type: "string" as const } },
  required: ["city"],
};

describe.each([
  ["gemini-2.5-flash", "text-embedding-3-small", "native"],
  ["gpt-4o-mini", "text-embedding-3-small", "translated"],
] as const)("@google/genai on %s (%s embeddings)", (model, embeddingModel, how) => {
  const ai = () => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: gatewayUrl } });

  it(`generateContent (${how})`, async () => {
    const marker = `Hello genai ${crypto.randomUUID().slice(0, 8)}`;
    const response = await ai().models.generateContent({ model, contents: marker });
    expect(response.text).toContain(`Mock reply to: ${marker}`);
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    const sent = await upstreamWith(marker);
    expect(sent?.path).toBe(
      how === "native" ? "/v1beta/models/gemini-2.5-flash:generateContent" : "/v1/chat/completions",
    );
    // The caller's sluice key never travels upstream, in the URL or anywhere.
    expect(JSON.stringify(sent)).not.toContain(apiKey);
  });

  it(`generateContentStream (${how})`, async () => {
    const marker = `Stream genai ${crypto.randomUUID().slice(0, 8)}`;
    let text = "";
    let usage: number | undefined;
    for await (const chunk of await ai().models.generateContentStream({ model, contents: marker })) {
      text += chunk.text ?? "";
      usage = chunk.usageMetadata?.candidatesTokenCount ?? usage;
    }
    expect(text).toContain(`Mock reply to: ${marker}`);
    expect(usage).toBeGreaterThan(0);
  });

  it(`function calling (${how})`, async () => {
    const response = await ai().models.generateContent({
      model,
      contents: "Weather in Paris?",
      config: { tools: [{ functionDeclarations: [{ name: "get_weather", parametersJsonSchema: weather }] }] },
    });
    expect(response.functionCalls?.[0]).toMatchObject({ name: "get_weather", args: { city: "mock-city" } });
  });

  it(`countTokens (${how})`, async () => {
    const counted = await ai().models.countTokens({ model, contents: "one two three four" });
    expect(counted.totalTokens).toBeGreaterThan(0);
  });

  it(`embedContent (${how === "native" ? "translated to OpenAI" : how})`, async () => {
    const result = await ai().models.embedContent({ model: embeddingModel, contents: ["alpha", "beta"] });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings?.[0]?.values?.length).toBeGreaterThan(0);
  });

  it("a bad key is refused in Google's shape", async () => {
    const bad = new GoogleGenAI({ apiKey: "nope", httpOptions: { baseUrl: gatewayUrl } });
    await expect(bad.models.generateContent({ model, contents: "x" })).rejects.toMatchObject({ status: 401 });
  });
});

describe("the Gemini API's key in ?key=", () => {
  it("authenticates, and the key stays out of the URL sent upstream", async () => {
    const marker = `Query key ${crypto.randomUUID().slice(0, 8)}`;
    const res = await fetch(`${gatewayUrl}/v1beta/models/gemini-2.5-flash:generateContent?key=${apiKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: marker }] }] }),
    });
    expect(res.status).toBe(200);
    const sent = await upstreamWith(marker);
    expect(sent?.query.key).not.toBe(apiKey);
  });

  it("errors are Google-shaped", async () => {
    const res = await fetch(`${gatewayUrl}/v1beta/models/no-such-model:generateContent?key=${apiKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
  });
});

describe("Vercel AI SDK providers with baseURL at sluice", () => {
  it("@ai-sdk/anthropic: generateText and a streamed two-step tool loop", async () => {
    const anthropic = createAnthropic({ baseURL: `${gatewayUrl}/v1`, apiKey });
    const marker = `AI SDK anthropic ${crypto.randomUUID().slice(0, 8)}`;
    const result = await generateText({ model: anthropic("claude-sonnet-4-5"), prompt: marker });
    expect(result.text).toContain(`Mock reply to: ${marker}`);
    expect((await upstreamWith(marker))?.path).toBe("/v1/messages");
    const calls: unknown[] = [];
    const streamed = streamText({
      model: anthropic("claude-sonnet-4-5"),
      prompt: "Weather in Paris?",
      tools: {
        get_weather: tool({
          inputSchema: jsonSchema<{ city: string }>(weather),
          execute: async (input) => {
            calls.push(input);
            return "Sunny";
          },
        }),
      },
      stopWhen: stepCountIs(2),
    });
    await streamed.consumeStream();
    // The mock calls a tool whenever tools are offered: each step called it once.
    expect(calls[0]).toEqual({ city: "mock-city" });
    expect((await streamed.steps).length).toBe(2);
  });

  it("@ai-sdk/google: generateText, streamText and embed", async () => {
    const google = createGoogleGenerativeAI({ baseURL: `${gatewayUrl}/v1beta`, apiKey });
    const marker = `AI SDK google ${crypto.randomUUID().slice(0, 8)}`;
    const result = await generateText({ model: google("gemini-2.5-flash"), prompt: marker });
    expect(result.text).toContain(`Mock reply to: ${marker}`);
    expect((await upstreamWith(marker))?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    const streamed = streamText({ model: google("gpt-4o-mini"), prompt: `${marker} stream` });
    expect(await streamed.text).toContain(`Mock reply to: ${marker} stream`);
    const embedded = await embed({
      model: google.textEmbeddingModel("text-embedding-3-small"),
      value: "hello",
    });
    expect(embedded.embedding.length).toBeGreaterThan(0);
  });
});
