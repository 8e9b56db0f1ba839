import { describe, expect, it } from "vitest";
import { usageRows } from "../admin/support";
import { gateway } from "../support/gateway";
import { chatWith, freshKey, mockCounts, uniqueModel } from "./support";

/** The gateways below run on this fixed clock, so the budget counters' periods are known. */
const NOW = Date.now();
const day = new Date(NOW).toISOString().slice(0, 10);
const month = day.slice(0, 7);

/**
 * A `premium` route downgrading to an `economy` one at `downgradeAt`, a key with a $1 daily
 * budget of a tenant with a $100 monthly one, and a way to set what they have spent (as another
 * isolate's spending would: the counters, in micro-dollars).
 */
async function downgrading(downgradeAt: number, premiumExtra: Record<string, unknown> = {}) {
  const id = crypto.randomUUID().slice(0, 8);
  const [premium, economy, tenant, keyId] = [`premium-${id}`, `economy-${id}`, `routing-${id}`, `key-${id}`];
  const big = uniqueModel("big");
  const small = uniqueModel("small");
  const gw = gateway(
    {
      routes: {
        [premium]: {
          targets: [{ provider: "mock", model: big }],
          downgrade_at: downgradeAt,
          downgrade_to: economy,
          ...premiumExtra,
        },
        [economy]: { targets: [{ provider: "mock-b", model: small }] },
      },
      prices: [
        { model: big, provider: "mock", input: 10, output: 40 },
        { model: small, provider: "mock-b", input: 0.1, output: 0.4 },
      ],
      tenant_limits: { [tenant]: { budget_usd_month: 100 } },
    },
    { now: () => NOW },
  );
  const { token } = await freshKey({ tenant, keyId, limits: { budget_usd_day: 1 }, now: NOW });
  const spent = async (keyMicros: number, tenantMicros = 0) => {
    await gw.services.redis.set(`sluice:budget:key:${keyId}:d:${day}`, keyMicros);
    await gw.services.redis.set(`sluice:budget:tenant:${tenant}:m:${month}`, tenantMicros);
  };
  return { gw, premium, tenant, big, small, token, spent };
}

describe("budget downgrades (downgrade_at / downgrade_to)", () => {
  it("serves the cheaper route once a budget's spend share reaches the threshold, and says so", async () => {
    const { gw, premium, tenant, big, small, token, spent } = await downgrading(0.8);
    const ask = async () => {
      const res = await gw.fetch("/v1/chat/completions", chatWith(token, premium));
      expect(res.status).toBe(200);
      return { model: res.headers.get("x-sluice-model"), from: res.headers.get("x-sluice-downgraded-from") };
    };

    await spent(500_000, 10_000_000); // 50% of the key's day, 10% of the tenant's month
    expect(await ask()).toEqual({ model: big, from: null });
    await spent(799_000, 10_000_000); // just under
    expect(await ask()).toEqual({ model: big, from: null });
    await spent(800_000, 10_000_000); // the key's day reaches 80%
    expect(await ask()).toEqual({ model: small, from: premium });
    await spent(0, 85_000_000); // the tenant's month is the one past 80%
    expect(await ask()).toEqual({ model: small, from: premium });
    await spent(0, 0);
    expect(await ask()).toEqual({ model: big, from: null });
    expect(await mockCounts(big, small)).toEqual([3, 2]);

    const rows = await usageRows(tenant);
    const seen = rows.map((r) => [r.requested_model, r.provider, r.upstream_model, r.downgraded_from]);
    expect(seen.filter((r) => r[3] === premium)).toEqual(Array(2).fill([premium, "mock-b", small, premium]));
    expect(seen.filter((r) => r[3] === null)).toEqual(Array(3).fill([premium, "mock", big, null]));
    // Settled to the real (cheap) cost, not the premium worst case reserved for it.
    const cheapRow = rows.find((r) => r.downgraded_from === premium);
    expect(Number(cheapRow?.cost_usd)).toBeGreaterThan(0);
    expect(Number(cheapRow?.cost_usd)).toBeLessThan(0.0001);
  });

  it("never stores a downgraded answer in the dearer route's response cache", async () => {
    const { gw, premium, big, token, spent } = await downgrading(0.5, { cache: { ttl_seconds: 600 } });
    const body = JSON.stringify({
      model: premium,
      messages: [{ role: "user", content: `cached ${crypto.randomUUID()}` }],
      temperature: 0,
    });
    const ask = () => gw.fetch("/v1/chat/completions", { ...chatWith(token, premium), body });

    await spent(600_000);
    const downgraded = await ask();
    expect(downgraded.headers.get("x-sluice-downgraded-from")).toBe(premium);
    expect(downgraded.headers.get("x-sluice-cache")).toBe("BYPASS");
    await spent(0);
    const full = await ask();
    expect(full.headers.get("x-sluice-cache")).toBe("MISS");
    expect(full.headers.get("x-sluice-model")).toBe(big);
    expect((await ask()).headers.get("x-sluice-cache")).toBe("HIT");
  });
});
