import { describe, expect, it } from "vitest";
import { adminJson, createKey, testGateway } from "../admin/support";
import { mockProviders } from "../support/gateway";

/** A route only this file sends to, so its aggregates are this file's requests alone. */
const ROUTE = `cached-report-${crypto.randomUUID().slice(0, 8)}`;
const config = {
  providers: mockProviders,
  routes: {
    [ROUTE]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], cache: { ttl_seconds: 600 } },
  },
};
const gw = testGateway({ env: { SLUICE_CONFIG: JSON.stringify(config) } });

function chat(key: string, content: string): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: ROUTE, temperature: 0, messages: [{ role: "user", content }] }),
  };
}

async function usage(query: string) {
  const res = await gw.fetch(`/admin/usage?${query}`, adminJson("GET"));
  expect(res.status).toBe(200);
  return (await res.json()) as { data: Record<string, unknown>[]; totals: Record<string, unknown> };
}

describe("response cache in /admin/usage: per route and per tenant", () => {
  it("reports hits, hit ratio and dollars saved by route and by tenant, and marks each hit row", async () => {
    const a = await createKey(gw.fetch);
    const b = await createKey(gw.fetch);
    const body = `report ${crypto.randomUUID()}`;
    // Tenant a: a miss then two hits; tenant b: its own miss, then a hit.
    const statuses: (string | null)[] = [];
    for (const key of [a.key, a.key, a.key, b.key, b.key]) {
      const res = await gw.fetch("/v1/chat/completions", chat(key, body));
      expect(res.status).toBe(200);
      statuses.push(res.headers.get("x-sluice-cache"));
    }
    expect(statuses).toEqual(["MISS", "HIT", "HIT", "MISS", "HIT"]);

    const rows = await gw.fetch(`/admin/usage/requests?tenant=${a.tenant}`, adminJson("GET"));
    const listed = ((await rows.json()) as { data: Record<string, unknown>[] }).data;
    const hits = listed.filter((row) => row.cache_hit === true);
    const miss = listed.find((row) => row.cache_hit === false);
    expect(hits).toHaveLength(2);
    expect(Number(miss?.cost_usd)).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit).toMatchObject({ cost_usd: "0", cache_saved_usd: miss?.cost_usd });
    }
    expect(miss?.cache_saved_usd).toBeNull();
    const answerCost = Number(miss?.cost_usd);

    const byRoute = await usage(`model=${ROUTE}&group_by=model`);
    expect(byRoute.data).toHaveLength(1);
    expect(byRoute.data[0]).toMatchObject({
      model: ROUTE,
      requests: 5,
      response_cache_hits: 3,
      response_cache_hit_ratio: 0.6,
    });
    expect(Number(byRoute.data[0]?.response_cache_saved_usd)).toBeCloseTo(3 * answerCost, 12);
    expect(byRoute.totals).toMatchObject({ response_cache_hits: 3, response_cache_hit_ratio: 0.6 });

    const byTenant = await usage(`model=${ROUTE}&group_by=tenant`);
    const tenantRow = (tenant: string) => byTenant.data.find((row) => row.tenant === tenant);
    expect(tenantRow(a.tenant)).toMatchObject({
      requests: 3,
      response_cache_hits: 2,
      response_cache_hit_ratio: 0.6667,
    });
    expect(tenantRow(b.tenant)).toMatchObject({
      requests: 2,
      response_cache_hits: 1,
      response_cache_hit_ratio: 0.5,
    });
    expect(Number(tenantRow(a.tenant)?.response_cache_saved_usd)).toBeCloseTo(2 * answerCost, 12);

    const csv = await (
      await gw.fetch(`/admin/usage/export?format=csv&tenant=${a.tenant}`, adminJson("GET"))
    ).text();
    const [header, ...lines] = csv
      .trim()
      .split("\r\n")
      .map((line) => line.split(","));
    const hitColumn = (header ?? []).indexOf("cache_hit");
    expect(hitColumn).toBeGreaterThan(0);
    expect(lines.map((line) => line[hitColumn]).sort()).toEqual(["false", "true", "true"]);
  });
});
