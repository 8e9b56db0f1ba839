import { beforeEach, describe, expect, it } from "vitest";
import { mockEmbedding } from "../../local/mock-provider/embedding";
import { clearUpstream, gateway, upstreamRequests } from "../support/gateway";
import { openaiFor, postJson } from "./support";

const gw = gateway({
  routes: {
    "text-embedding-004": { targets: [{ provider: "mock-gemini", model: "text-embedding-004" }] },
    "text-embedding-3-small": { targets: [{ provider: "mock", model: "text-embedding-3-small" }] },
  },
  prices: [{ model: "text-embedding-004", input: 0.1, output: 0 }],
});
const client = openaiFor(gw);

beforeEach(clearUpstream);

/** The mock's Gemini vector for a text, as float32 (what base64 carries). */
const float32 = (text: string, dims = 768) => mockEmbedding(text, dims).map((v) => Math.fround(v));

describe("Gemini embeddings through the gateway", () => {
  it("the openai SDK (base64 by default) gets the upstream's vectors back", async () => {
    const result = await client.embeddings.create({
      model: "text-embedding-004",
      input: ["one fish", "two fish"],
    });
    expect(result.object).toBe("list");
    expect(result.model).toBe("text-embedding-004");
    expect(result.data.map((d) => d.index)).toEqual([0, 1]);
    expect(result.data[0]?.embedding).toEqual(float32("one fish"));
    expect(result.data[1]?.embedding).toEqual(float32("two fish"));
    const [sent] = await upstreamRequests();
    expect(sent?.path).toMatch(/:batchEmbedContents$/);
  });

  it("answers base64 strings when asked, float32 little-endian like OpenAI", async () => {
    const res = await gw.fetch(
      "/v1/embeddings",
      postJson({ model: "text-embedding-004", input: "one fish", encoding_format: "base64" }),
    );
    const body = (await res.json()) as { data: { embedding: string }[] };
    const encoded = body.data[0]?.embedding ?? "";
    expect(typeof encoded).toBe("string");
    const bytes = Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0));
    expect(Array.from(new Float32Array(bytes.buffer))).toEqual(float32("one fish"));
  });

  it("answers number arrays for float or no encoding_format", async () => {
    for (const extra of [{}, { encoding_format: "float" }]) {
      const res = await gw.fetch(
        "/v1/embeddings",
        postJson({ model: "text-embedding-004", input: "one fish", dimensions: 8, ...extra }),
      );
      const body = (await res.json()) as { data: { embedding: number[] }[] };
      expect(body.data[0]?.embedding).toEqual(mockEmbedding("one fish", 8));
    }
  });

  it("fills usage with the gateway's estimate (Gemini reports none) and prices it", async () => {
    const res = await gw.fetch(
      "/v1/embeddings",
      postJson({ model: "text-embedding-004", input: "one two three four" }),
    );
    const body = (await res.json()) as {
      usage: { prompt_tokens: number; total_tokens: number; cost: number };
    };
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens);
    expect(body.usage.cost).toBeCloseTo((body.usage.prompt_tokens * 0.1) / 1e6, 12);
    expect(res.headers.get("x-sluice-cost-usd")).toBe(String(body.usage.cost));
  });

  it("leaves an OpenAI-compatible upstream's base64 and usage as they came", async () => {
    const res = await gw.fetch(
      "/v1/embeddings",
      postJson({ model: "text-embedding-3-small", input: "one fish", encoding_format: "base64" }),
    );
    const body = (await res.json()) as { data: { embedding: unknown }[]; usage: { prompt_tokens: number } };
    expect(typeof body.data[0]?.embedding).toBe("string");
    const [sent] = await upstreamRequests();
    expect(sent?.body.encoding_format).toBe("base64");
    expect(body.usage.prompt_tokens).toBe(2);
  });
});
