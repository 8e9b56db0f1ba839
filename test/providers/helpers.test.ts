import { describe, expect, it } from "vitest";
import { createAnthropicStreamTranslator } from "../../src/providers/anthropic/stream";
import { encodeEmbeddingsBase64 } from "../../src/providers/common/embeddings";
import { boundedProviderError } from "../../src/providers/common/error-body";
import { hasRemoteImages, inlineRemoteImages } from "../../src/providers/gemini";
import { createGeminiStreamTranslator } from "../../src/providers/gemini/stream";
import { MalformedUpstreamError } from "../../src/providers/types";
import { CONTEXT } from "./support";

describe("inlineRemoteImages (Gemini's fetch hook)", () => {
  const body = {
    model: "m",
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "Compare" },
          { type: "image_url", image_url: { url: "https://example.com/a.png" } },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          { type: "image_url", image_url: "https://example.com/a.png" },
        ],
      },
    ],
  };

  it("replaces each remote image by a data URL, fetching each distinct URL once", async () => {
    const fetched: string[] = [];
    const inlined = await inlineRemoteImages(body, async (url) => {
      fetched.push(url);
      return { mimeType: "image/png", base64: "QkJCQg==" };
    });
    expect(fetched).toEqual(["https://example.com/a.png"]);
    const parts = (inlined.messages as { content: unknown }[])[1]?.content;
    expect(parts).toEqual([
      { type: "text", text: "Compare" },
      { type: "image_url", image_url: { url: "data:image/png;base64,QkJCQg==" } },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
      { type: "image_url", image_url: { url: "data:image/png;base64,QkJCQg==" } },
    ]);
    expect(hasRemoteImages(body)).toBe(true);
    expect(hasRemoteImages(inlined)).toBe(false);
  });

  it("leaves a body without remote images as it is and never calls the fetcher", async () => {
    const plain = { messages: [{ role: "user", content: "Hi" }] };
    const inlined = await inlineRemoteImages(plain, () => {
      throw new Error("must not fetch");
    });
    expect(inlined).toBe(plain);
  });

  it("lets the fetcher's refusal through (the gateway's SSRF guard decides)", async () => {
    await expect(inlineRemoteImages(body, async () => Promise.reject(new Error("blocked")))).rejects.toThrow(
      "blocked",
    );
  });
});

describe("encodeEmbeddingsBase64", () => {
  it("encodes number arrays as little-endian float32 base64, as OpenAI does", () => {
    const values = [0.5, -1.25, 3];
    const out = encodeEmbeddingsBase64({
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: values }],
    });
    const encoded = (out.data as { embedding: string }[])[0]?.embedding ?? "";
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(12);
    expect([0, 1, 2].map((i) => view.getFloat32(i * 4, true))).toEqual(values);
  });

  it("leaves strings and bodies without data alone", () => {
    const already = { data: [{ embedding: "AAAAPw==" }] };
    expect(encodeEmbeddingsBase64(already)).toEqual(already);
    expect(encodeEmbeddingsBase64({ error: "x" })).toEqual({ error: "x" });
  });
});

describe("stream translators beyond the fixtures", () => {
  it("Anthropic: an error event is kept as an OpenAI-shaped error for the caller's terminal event", () => {
    const translator = createAnthropicStreamTranslator(CONTEXT);
    translator.push({
      event: "error",
      data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    });
    expect(translator.upstreamError()).toEqual({
      message: "Overloaded",
      type: "api_error",
      code: "overloaded",
      param: null,
    });
    expect(translator.finish().complete).toBe(false);
  });

  it("Gemini: an error object in the stream is kept the same way", () => {
    const translator = createGeminiStreamTranslator(CONTEXT);
    translator.push({
      data: '{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}',
    });
    expect(translator.upstreamError()?.code).toBe("unavailable");
  });

  it("both throw MalformedUpstreamError on a data line that is not JSON", () => {
    expect(() => createAnthropicStreamTranslator(CONTEXT).push({ data: "{oops" })).toThrow(
      MalformedUpstreamError,
    );
    expect(() => createGeminiStreamTranslator(CONTEXT).push({ data: "not json" })).toThrow(
      MalformedUpstreamError,
    );
  });

  it("Gemini: nothing received means no usage, no [DONE] and an incomplete answer", () => {
    expect(createGeminiStreamTranslator(CONTEXT).finish()).toEqual({ payloads: [], complete: false });
  });
});

describe("boundedProviderError (what a provider's own error may bring to a caller)", () => {
  it("keeps a provider's words as they are, only bounded in length", () => {
    const error = { message: "Overloaded", type: "api_error", code: "overloaded", param: null };
    expect(boundedProviderError(error)).toEqual(error);
    const long = boundedProviderError({
      message: "x".repeat(50_000),
      type: "t".repeat(500),
      code: "c".repeat(500),
      param: null,
    });
    expect(long.message.length).toBe(2000);
    expect(long.type.length).toBe(100);
    expect(long.code?.length).toBe(100);
  });

  it("makes strings of the numbers some compatible vendors send as codes", () => {
    const error = { message: "Busy", type: "server_error", code: 503 as unknown as string, param: null };
    expect(boundedProviderError(error).code).toBe("503");
  });
});
