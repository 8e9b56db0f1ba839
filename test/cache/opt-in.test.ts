import { describe, expect, it } from "vitest";
import { cacheKey } from "../../src/cache";
import { adminJson, createKey, testGateway, testRedis } from "../admin/support";
import { mockProviders } from "../support/gateway";
import { call, upstreamCalls } from "./support";

const ROUTE_TTL = 600;
const config = {
  providers: mockProviders,
  routes: {
    cached: {
      targets: [{ provider: "mock", model: "gpt-4o-mini" }],
      cache: { ttl_seconds: ROUTE_TTL, max_entry_bytes: 100_000 },
    },
  },
  plans: {
    free: { rpm: 600, tpm: 1_000_000, concurrency: 16, budget_usd_day: 10 },
    // A plan whose keys never use the response cache, and one whose answers live a minute at most.
    "no-cache": { rpm: 600, cache_max_ttl_seconds: 0 },
    minute: { rpm: 600, cache_max_ttl_seconds: 60 },
  },
};
const gw = testGateway({ env: { SLUICE_CONFIG: JSON.stringify(config) } });
const redis = testRedis();

function uniqueChat() {
  const marker = `cache-opt-in ${crypto.randomUUID()}`;
  return { marker, body: { model: "cached", temperature: 0, messages: [{ role: "user", content: marker }] } };
}

/** Sends the same body twice; returns both cache statuses. */
async function twice(key: string, body: unknown, headers: Record<string, string> = {}) {
  const statuses: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await gw.fetch("/v1/chat/completions", call(key, body, headers));
    expect(res.status).toBe(200);
    statuses.push(res.headers.get("x-sluice-cache"));
    await res.arrayBuffer();
  }
  return statuses;
}

/** The TTL Redis holds for a tenant's entry of this body (-2: nothing stored). */
async function storedTtl(tenant: string, body: Record<string, unknown>): Promise<number> {
  const key = await cacheKey({ tenant, route: "cached", endpoint: "chat", body });
  return redis.ttl(key as string);
}

describe("response cache: per plan and per key", () => {
  it("a plan without the cache bypasses a cached route: every request goes upstream", async () => {
    const { key } = await createKey(gw.fetch, { plan: "no-cache" });
    const { marker, body } = uniqueChat();
    expect(await twice(key, body)).toEqual(["BYPASS", "BYPASS"]);
    expect(await upstreamCalls(marker)).toBe(2);
  });

  it("a key that opts out bypasses the cache its plan allows", async () => {
    const { key } = await createKey(gw.fetch, { limits: { cache_max_ttl_seconds: 0 } });
    const { marker, body } = uniqueChat();
    expect(await twice(key, body)).toEqual(["BYPASS", "BYPASS"]);
    expect(await upstreamCalls(marker)).toBe(2);
  });

  it("a key cannot widen its plan: a TTL on the key does not turn a plan's cache back on", async () => {
    const { key } = await createKey(gw.fetch, { plan: "no-cache", limits: { cache_max_ttl_seconds: 3600 } });
    const { body } = uniqueChat();
    expect(await twice(key, body)).toEqual(["BYPASS", "BYPASS"]);
  });

  it("a key on a plan with the cache gets hits", async () => {
    const { key, tenant } = await createKey(gw.fetch, { plan: "minute" });
    const { marker, body } = uniqueChat();
    expect(await twice(key, body)).toEqual(["MISS", "HIT"]);
    expect(await upstreamCalls(marker)).toBe(1);
    expect(await storedTtl(tenant, body)).toBeGreaterThan(0);
  });

  it("the stored TTL is the shortest of the route's, the plan's, the key's and the request's", async () => {
    const cases: { plan?: string; keyTtl?: number; header?: string; most: number; least: number }[] = [
      { most: ROUTE_TTL, least: 61 }, // the route's
      { header: "100000", most: ROUTE_TTL, least: 61 }, // a request never lengthens the route's
      { plan: "minute", header: "600", most: 60, least: 1 }, // nor the plan's
      { keyTtl: 300, header: "600", most: 300, least: 61 }, // nor the key's
      { plan: "minute", keyTtl: 20, most: 20, least: 1 }, // a key narrows its plan
      { plan: "minute", keyTtl: 3600, most: 60, least: 1 }, // and never widens it
      { keyTtl: 300, header: "30", most: 30, least: 1 }, // a request may shorten it
    ];
    for (const c of cases) {
      const { key, tenant } = await createKey(gw.fetch, {
        ...(c.plan ? { plan: c.plan } : {}),
        ...(c.keyTtl === undefined ? {} : { limits: { cache_max_ttl_seconds: c.keyTtl } }),
      });
      const { body } = uniqueChat();
      const res = await gw.fetch(
        "/v1/chat/completions",
        call(key, body, c.header ? { "x-sluice-cache-ttl": c.header } : {}),
      );
      expect(res.headers.get("x-sluice-cache"), JSON.stringify(c)).toBe("MISS");
      const ttl = await storedTtl(tenant, body);
      expect(ttl, JSON.stringify(c)).toBeLessThanOrEqual(c.most);
      expect(ttl, JSON.stringify(c)).toBeGreaterThanOrEqual(c.least);
    }
  });

  it("never serves an entry older than the caller's ceiling, though its tenant's other keys share it", async () => {
    const tenant = `t-${crypto.randomUUID().slice(0, 8)}`;
    const long = await createKey(gw.fetch, { tenant });
    const minute = await createKey(gw.fetch, { tenant, plan: "minute" });
    const { marker, body } = uniqueChat();
    const status = async (key: string, headers: Record<string, string> = {}) =>
      (await gw.fetch("/v1/chat/completions", call(key, body, headers))).headers.get("x-sluice-cache");
    expect(await status(long.key)).toBe("MISS"); // stored for the route's 600 s
    expect(await status(minute.key)).toBe("HIT"); // seconds old: within the minute
    gw.clock.ms += 61_000;
    expect(await status(long.key)).toBe("HIT");
    expect(await status(long.key, { "x-sluice-cache-ttl": "30" })).toBe("MISS"); // 61 s old: too old for 30 s
    expect(await status(minute.key)).toBe("HIT"); // just stored anew
    gw.clock.ms += 61_000;
    expect(await status(long.key)).toBe("HIT"); // 61 s old: within the route's 600 s
    expect(await status(minute.key)).toBe("MISS"); // but older than the minute plan allows
    expect(await upstreamCalls(marker)).toBe(3);
  });

  it("the admin API keeps a key's cache ceiling, validates it, and a rotation carries it over", async () => {
    const created = await createKey(gw.fetch, { limits: { cache_max_ttl_seconds: 0 } });
    expect(created.limits).toEqual({ cache_max_ttl_seconds: 0 });
    const rotated = await gw.fetch(`/admin/keys/${created.id}/rotate`, adminJson("POST", {}));
    expect(rotated.status).toBe(201);
    const successor = (await rotated.json()) as { key: string; limits: Record<string, number> };
    expect(successor.limits).toEqual({ cache_max_ttl_seconds: 0 });
    const { body } = uniqueChat();
    expect(await twice(successor.key, body)).toEqual(["BYPASS", "BYPASS"]);

    for (const bad of [-1, 1.5, 30 * 86_400 + 1, "60"]) {
      const res = await gw.fetch(
        "/admin/keys",
        adminJson("POST", { tenant: "t-bad-cache", limits: { cache_max_ttl_seconds: bad } }),
      );
      expect(res.status, String(bad)).toBe(400);
      const error = ((await res.json()) as { error: { param: string } }).error;
      expect(error.param).toBe("limits.cache_max_ttl_seconds");
    }
  });
});
