import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { scopeForPath } from "../../src/proxy/scopes";
import { testDb } from "../metering/support";
import { gateway, upstreamRequests } from "../support/gateway";
import { tenantKey } from "./support";

// The Gemini API under /v1beta: natively to Gemini targets (the body as sent, model rewritten,
// the answer as Gemini wrote it), translated to the others; keys, scopes and errors as Google's.
const gw = gateway({
  routes: {
    flash: { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash" }] },
    "flash-cached": { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash+cached-tokens=1000" }] },
    embed: { targets: [{ provider: "mock-gemini", model: "gemini-embedding-001" }] },
    claude: { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
    openai: { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
  },
  prices: [{ model: "gemini-2.5-flash+cached-tokens=1000", input: 0.3, cached_input: 0.03, output: 2.5 }],
});
const { tenant, key } = await tenantKey("gemini-native");

const call = (path: string, body: unknown, apiKey = key) =>
  gw.fetch(`/v1beta/models/${path}`, {
    method: "POST",
    headers: { "x-goog-api-key": apiKey, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const text = (t: string) => ({ contents: [{ role: "user", parts: [{ text: t }] }] });

async function sentWith(marker: string) {
  return (await upstreamRequests()).filter((r) => JSON.stringify(r.body).includes(marker)).at(-1);
}

describe("native to Gemini", () => {
  it("embedContent and batchEmbedContents go up as sent, every model field the target's", async () => {
    const marker = crypto.randomUUID();
    const one = await call("embed:embedContent", {
      model: "models/embed",
      content: { parts: [{ text: marker }] },
    });
    expect(one.status).toBe(200);
    expect(((await one.json()) as { embedding: { values: number[] } }).embedding.values.length).toBe(768);
    expect((await sentWith(marker))?.body).toMatchObject({ model: "models/gemini-embedding-001" });
    const batch = await call("embed:batchEmbedContents", {
      requests: [`a ${marker}`, `b ${marker}`].map((t) => ({
        model: "models/embed",
        content: { parts: [{ text: t }] },
        outputDimensionality: 8,
      })),
    });
    expect(batch.status).toBe(200);
    const { embeddings } = (await batch.json()) as { embeddings: { values: number[] }[] };
    expect(embeddings.map((e) => e.values.length)).toEqual([8, 8]);
    const sent = await sentWith(`b ${marker}`);
    expect(sent?.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
  });

  it("implicit cache reads (cachedContentTokenCount) are priced at the cached rate", async () => {
    const res = await call("flash-cached:generateContent", text("Hello there"));
    const body = (await res.json()) as {
      usageMetadata: {
        promptTokenCount: number;
        candidatesTokenCount: number;
        cachedContentTokenCount: number;
      };
    };
    expect(body.usageMetadata.cachedContentTokenCount).toBe(1000);
    const id = res.headers.get("x-request-id");
    const db = testDb();
    let row: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !row; i++) {
      const result = await db.execute(
        sql`select *, cost_usd::text as cost_text from usage_events where request_id = ${id} and tenant = ${tenant}`,
      );
      row = result.rows[0] as Record<string, unknown> | undefined;
      if (!row) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const u = body.usageMetadata;
    expect(row).toMatchObject({ cached_read_tokens: 1000, prompt_tokens: u.promptTokenCount });
    const micro = (u.promptTokenCount - 1000) * 0.3 + 1000 * 0.03 + u.candidatesTokenCount * 2.5;
    expect(Number(row?.cost_text)).toBeCloseTo(micro / 1e6, 12);
    expect(Number(row?.cache_savings_usd)).toBeCloseTo((1000 * 0.27) / 1e6, 12);
  });

  it("a body only Gemini can take passes natively, and is a Google-shaped 400 elsewhere", async () => {
    const audio = {
      contents: [{ role: "user", parts: [{ inlineData: { mimeType: "audio/wav", data: "UklGRg==" } }] }],
    };
    expect((await call("flash:generateContent", audio)).status).toBe(200);
    const refused = await call("openai:generateContent", audio);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
  });
});

describe("translated", () => {
  it("to Claude: a Gemini request with a function declaration gets a function call back", async () => {
    const res = await call("claude:generateContent", {
      ...text("Weather in Paris?"),
      tools: [
        {
          functionDeclarations: [
            { name: "get_weather", parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } } },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      candidates: { content: { parts: unknown[] }; finishReason: string }[];
    };
    expect(body.candidates[0]?.content.parts[0]).toEqual({
      functionCall: { name: "get_weather", args: { city: "mock-city" } },
    });
    expect(body.candidates[0]?.finishReason).toBe("STOP");
  });

  it("streams to OpenAI as Gemini SSE events, the last with finishReason and usageMetadata", async () => {
    const res = await gw.fetch("/v1beta/models/openai:streamGenerateContent?alt=sse", {
      method: "POST",
      headers: { "x-goog-api-key": key, "content-type": "application/json" },
      body: JSON.stringify(text("Stream to openai")),
    });
    const events = (await res.text())
      .split("\r\n\r\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace(/^data: /, "")) as Record<string, unknown>);
    const last = events.at(-1) as {
      candidates: { finishReason: string }[];
      usageMetadata: { totalTokenCount: number };
    };
    expect(last.candidates[0]?.finishReason).toBe("STOP");
    expect(last.usageMetadata.totalTokenCount).toBeGreaterThan(0);
    const parts = events.flatMap(
      (e) =>
        (e as { candidates: { content: { parts: { text?: string }[] } }[] }).candidates[0]?.content.parts ??
        [],
    );
    expect(parts.map((p) => p.text ?? "").join("")).toContain("Mock reply to: Stream to openai");
  });
});

describe("keys and scopes", () => {
  it("the gemini scope opens the Gemini API; other scopes are refused in Google's shape", async () => {
    const chatOnly = await tenantKey("gemini-scope", ["chat"]);
    const refused = await call("flash:generateContent", text("x"), chatOnly.key);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 403, status: "PERMISSION_DENIED" } });
    const gemini = await tenantKey("gemini-scope", ["gemini"]);
    expect((await call("flash:generateContent", text("x"), gemini.key)).status).toBe(200);
    // The same calls under /v1 (where the Google SDK goes given a base URL) take the same scope.
    const v1 = await gw.fetch("/v1/models/flash:generateContent", {
      method: "POST",
      headers: { "x-goog-api-key": chatOnly.key, "content-type": "application/json" },
      body: JSON.stringify(text("x")),
    });
    expect(v1.status).toBe(403);
  });

  it("every /v1beta route of the app needs a scope", () => {
    const routes = createApp(gw.services).routes.filter(
      (r) => r.path.startsWith("/v1beta/") && r.method !== "ALL",
    );
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const path = route.path.replace(/:[a-z]+(\{[^}]*\})?/g, "some-model:generateContent");
      expect(scopeForPath(path, route.method), `${route.method} ${route.path}`).toBe("gemini");
    }
  });

  it("an unknown method is a Google-shaped 404", async () => {
    const res = await call("flash:launchRockets", text("x"));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
  });
});
