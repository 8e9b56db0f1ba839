import { describe, expect, it } from "vitest";
import { adminJson, createKey, testGateway, usageRows } from "../admin/support";
import { mockProviders, readSse } from "../support/gateway";
import { call, upstreamCalls } from "./support";

const cache = { ttl_seconds: 600, max_entry_bytes: 100_000 };
const config = {
  providers: mockProviders,
  routes: {
    cached: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], cache },
    "cached-drop": {
      targets: [{ provider: "mock", model: "gpt-4o-mini+fault=drop-after-3" }],
      idle_timeout_ms: 500,
      retries: 0,
      cache,
    },
    plain: { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
    "cached-native": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }], cache },
  },
};
const gw = testGateway({ env: { SLUICE_CONFIG: JSON.stringify(config) } });

/** A chat body no other test sends: the mock's request log is shared. */
function uniqueChat(model = "cached", extra: Record<string, unknown> = {}) {
  const marker = `cache-test ${crypto.randomUUID()}`;
  return { marker, body: { model, temperature: 0, messages: [{ role: "user", content: marker }], ...extra } };
}

async function tenantKey() {
  const created = await createKey(gw.fetch);
  return { key: created.key, tenant: created.tenant as string };
}

/** The JSON answer without its cost (0 on a hit) for comparison. */
function withoutCost(answer: Record<string, unknown>) {
  const usage = { ...(answer.usage as Record<string, unknown>) };
  delete usage.cost;
  return { ...answer, usage };
}

describe("response cache", () => {
  it("answers a repeated request from the cache, with no upstream call, as JSON and as a stream", async () => {
    const { key } = await tenantKey();
    const { marker, body } = uniqueChat();
    const first = await gw.fetch("/v1/chat/completions", call(key, body));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-sluice-cache")).toBe("MISS");
    const firstJson = (await first.json()) as Record<string, unknown>;

    const second = await gw.fetch("/v1/chat/completions", call(key, body));
    expect(second.headers.get("x-sluice-cache")).toBe("HIT");
    expect(second.headers.get("age")).toMatch(/^\d+$/);
    const secondJson = (await second.json()) as Record<string, unknown>;
    expect(withoutCost(secondJson)).toEqual(withoutCost(firstJson));
    expect((secondJson.usage as { cost: number }).cost).toBe(0);

    const streamed = await gw.fetch(
      "/v1/chat/completions",
      call(key, { ...body, stream: true, stream_options: { include_usage: true } }),
    );
    expect(streamed.headers.get("x-sluice-cache")).toBe("HIT");
    expect(streamed.headers.get("content-type")).toContain("text/event-stream");
    const payloads = await readSse(streamed);
    expect(payloads.at(-1)).toBe("[DONE]");
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p));
    const text = chunks.map((ch) => ch.choices[0]?.delta?.content ?? "").join("");
    const message = (firstJson.choices as { message: { content: string } }[])[0]?.message;
    expect(text).toBe(message?.content);
    expect(chunks.at(-1).usage).toMatchObject({ ...(firstJson.usage as object), cost: 0 });

    expect(await upstreamCalls(marker)).toBe(1);
  });

  it("stores a complete stream and serves it again as a stream and as JSON", async () => {
    const { key } = await tenantKey();
    const { marker, body } = uniqueChat("cached", { stream: true, stream_options: { include_usage: true } });
    const first = await gw.fetch("/v1/chat/completions", call(key, body));
    expect(first.headers.get("x-sluice-cache")).toBe("MISS");
    const firstChunks = (await readSse(first)).slice(0, -1).map((p) => JSON.parse(p));
    const firstText = firstChunks.map((ch) => ch.choices[0]?.delta?.content ?? "").join("");

    const again = await gw.fetch("/v1/chat/completions", call(key, body));
    expect(again.headers.get("x-sluice-cache")).toBe("HIT");
    const chunks = (await readSse(again)).slice(0, -1).map((p) => JSON.parse(p));
    expect(chunks.map((ch) => ch.choices[0]?.delta?.content ?? "").join("")).toBe(firstText);
    const { cost: _c1, ...firstUsage } = firstChunks.at(-1).usage;
    expect(chunks.at(-1).usage).toEqual({ ...firstUsage, cost: 0 });

    const json = await gw.fetch("/v1/chat/completions", call(key, { ...body, stream: false }));
    expect(json.headers.get("x-sluice-cache")).toBe("HIT");
    const answer = (await json.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]?.message.content).toBe(firstText);
    expect(await upstreamCalls(marker)).toBe(1);
  });

  it("serves /v1/messages callers in Anthropic's shapes from the cache", async () => {
    const { key } = await tenantKey();
    const marker = `cache-test ${crypto.randomUUID()}`;
    const body = {
      model: "cached",
      max_tokens: 32,
      temperature: 0,
      messages: [{ role: "user", content: marker }],
    };
    const first = await gw.fetch("/v1/messages", call(key, body));
    expect(first.status).toBe(200);
    const firstJson = (await first.json()) as { content: unknown };
    const hit = await gw.fetch("/v1/messages", call(key, body));
    expect(hit.headers.get("x-sluice-cache")).toBe("HIT");
    expect(((await hit.json()) as { content: unknown }).content).toEqual(firstJson.content);
    const streamed = await gw.fetch("/v1/messages", call(key, { ...body, stream: true }));
    expect(streamed.headers.get("x-sluice-cache")).toBe("HIT");
    const events = await streamed.text();
    expect(events).toContain("event: message_start");
    expect(events).toContain("event: message_stop");
    expect(await upstreamCalls(marker)).toBe(1);
  });

  it("serves /v1/responses and embeddings callers from the cache", async () => {
    const { key } = await tenantKey();
    const marker = `cache-test ${crypto.randomUUID()}`;
    const body = { model: "cached", input: marker, temperature: 0, max_output_tokens: 32 };
    const first = await gw.fetch("/v1/responses", call(key, body));
    expect(first.status).toBe(200);
    expect(first.headers.get("x-sluice-cache")).toBe("MISS");
    const firstJson = (await first.json()) as { output: unknown };
    const hit = await gw.fetch("/v1/responses", call(key, { ...body, stream: true }));
    expect(hit.headers.get("x-sluice-cache")).toBe("HIT");
    const events = await hit.text();
    expect(events).toContain("event: response.completed");
    expect(JSON.stringify(firstJson.output)).toContain("text");

    const embed = { model: "cached", input: marker };
    const e1 = await gw.fetch("/v1/embeddings", call(key, embed));
    expect(e1.headers.get("x-sluice-cache")).toBe("MISS");
    const e2 = await gw.fetch("/v1/embeddings", call(key, embed));
    expect(e2.headers.get("x-sluice-cache")).toBe("HIT");
    const [j1, j2] = (await Promise.all([e1.json(), e2.json()])) as { data: unknown }[];
    expect(j2?.data).toEqual(j1?.data);
    expect(await upstreamCalls(marker)).toBe(2);
  });

  it("bypasses native passthrough answers: they are never stored", async () => {
    const { key } = await tenantKey();
    const marker = `cache-test ${crypto.randomUUID()}`;
    const body = {
      model: "cached-native",
      max_tokens: 32,
      temperature: 0,
      messages: [{ role: "user", content: marker }],
    };
    for (const stream of [false, false, true]) {
      const res = await gw.fetch("/v1/messages", call(key, { ...body, stream }));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-sluice-cache")).toBe("BYPASS");
      await res.arrayBuffer();
    }
    expect(await upstreamCalls(marker)).toBe(3);
  });

  it("keeps tenants apart: the same body from another tenant is a miss", async () => {
    const a = await tenantKey();
    const b = await tenantKey();
    const { marker, body } = uniqueChat();
    await gw.fetch("/v1/chat/completions", call(a.key, body));
    const other = await gw.fetch("/v1/chat/completions", call(b.key, body));
    expect(other.headers.get("x-sluice-cache")).toBe("MISS");
    expect(await upstreamCalls(marker)).toBe(2);
  });

  it("ignores key order, whitespace and delivery fields, but not the content", async () => {
    const { key } = await tenantKey();
    const { marker, body } = uniqueChat();
    await gw.fetch("/v1/chat/completions", call(key, body));
    const reordered = { messages: body.messages, temperature: 0, model: "cached", user: "someone" };
    const hit = await gw.fetch("/v1/chat/completions", call(key, reordered));
    expect(hit.headers.get("x-sluice-cache")).toBe("HIT");
    const changed = await gw.fetch("/v1/chat/completions", call(key, { ...body, max_tokens: 7 }));
    expect(changed.headers.get("x-sluice-cache")).toBe("MISS");
    expect(await upstreamCalls(marker)).toBe(2);
  });

  it("bypasses routes without a cache, sampled requests and no-store; refresh skips the lookup", async () => {
    const { key } = await tenantKey();
    const plain = uniqueChat("plain");
    const res = await gw.fetch("/v1/chat/completions", call(key, plain.body));
    expect(res.headers.get("x-sluice-cache")).toBe("BYPASS");

    const sampled = uniqueChat("cached", { temperature: 0.7 });
    for (let i = 0; i < 2; i++) {
      const r = await gw.fetch("/v1/chat/completions", call(key, sampled.body));
      expect(r.headers.get("x-sluice-cache")).toBe("BYPASS");
    }
    expect(await upstreamCalls(sampled.marker)).toBe(2);

    const { marker, body } = uniqueChat();
    const noStore = await gw.fetch("/v1/chat/completions", call(key, body, { "cache-control": "no-store" }));
    expect(noStore.headers.get("x-sluice-cache")).toBe("BYPASS");
    expect((await gw.fetch("/v1/chat/completions", call(key, body))).headers.get("x-sluice-cache")).toBe(
      "MISS",
    );
    const refreshed = await gw.fetch(
      "/v1/chat/completions",
      call(key, body, { "x-sluice-cache": "refresh" }),
    );
    expect(refreshed.headers.get("x-sluice-cache")).toBe("MISS");
    expect((await gw.fetch("/v1/chat/completions", call(key, body))).headers.get("x-sluice-cache")).toBe(
      "HIT",
    );
    expect(await upstreamCalls(marker)).toBe(3);

    const bad = await gw.fetch("/v1/chat/completions", call(key, body, { "x-sluice-cache-ttl": "soon" }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_cache_ttl");
  });

  it("never stores a stream the upstream cut short", async () => {
    const { key } = await tenantKey();
    const { marker, body } = uniqueChat("cached-drop", { stream: true });
    for (let i = 0; i < 2; i++) {
      const res = await gw.fetch("/v1/chat/completions", call(key, body));
      expect(res.headers.get("x-sluice-cache")).toBe("MISS");
      await res.arrayBuffer();
    }
    expect(await upstreamCalls(marker)).toBe(2);
  });

  it("purges a tenant's entries through the admin API, and no one else's", async () => {
    const a = await tenantKey();
    const b = await tenantKey();
    const { body } = uniqueChat();
    await gw.fetch("/v1/chat/completions", call(a.key, body));
    await gw.fetch("/v1/chat/completions", call(b.key, body));
    const purged = await gw.fetch(`/admin/cache?tenant=${encodeURIComponent(a.tenant)}`, adminJson("DELETE"));
    expect(purged.status).toBe(200);
    expect(await purged.json()).toEqual({ deleted: 1, complete: true });
    const afterA = await gw.fetch("/v1/chat/completions", call(a.key, body));
    expect(afterA.headers.get("x-sluice-cache")).toBe("MISS");
    const afterB = await gw.fetch("/v1/chat/completions", call(b.key, body));
    expect(afterB.headers.get("x-sluice-cache")).toBe("HIT");
    const unscoped = await gw.fetch("/admin/cache", adminJson("DELETE"));
    expect(unscoped.status).toBe(400);
  });

  it("meters a hit: cache_hit, cost 0, and the first request's cost as savings", async () => {
    const { key, tenant } = await tenantKey();
    const { body } = uniqueChat();
    await gw.fetch("/v1/chat/completions", call(key, body));
    await gw.fetch("/v1/chat/completions", call(key, body));
    const rows = (await usageRows(tenant)).sort((a, b) => Number(a.cache_hit) - Number(b.cache_hit));
    expect(rows).toHaveLength(2);
    const [miss, hit] = rows as Record<string, unknown>[];
    expect(miss?.cache_hit).toBe(false);
    expect(Number(miss?.cost_usd)).toBeGreaterThan(0);
    expect(hit?.cache_hit).toBe(true);
    expect(Number(hit?.cost_usd)).toBe(0);
    expect(hit?.cache_saved_usd).toBe(miss?.cost_usd);

    const usage = await gw.fetch(
      `/admin/usage?tenant=${encodeURIComponent(tenant)}&group_by=tenant,model`,
      adminJson("GET"),
    );
    const report = (await usage.json()) as { data: Record<string, unknown>[] };
    expect(report.data[0]).toMatchObject({
      tenant,
      model: "cached",
      requests: 2,
      response_cache_hits: 1,
      response_cache_hit_ratio: 0.5,
    });
    expect(Number(report.data[0]?.response_cache_saved_usd)).toBe(Number(miss?.cost_usd));
  });
});
