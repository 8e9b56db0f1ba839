import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testDb } from "../admin/support";
import { gateway, type TestGateway } from "../support/gateway";
import { adminJson, billingGateway, chatCall, newTenantId, prepaidTenant, thisMonth } from "./support";

/**
 * Micro-dollars the usage rows took, as the gate settles them: each row's billed price rounded
 * up; and the same at cost, to show the balance was charged the billed price.
 */
async function usageMicros(tenant: string): Promise<{ rows: number; micros: number; costMicros: number }> {
  const result = await testDb().execute(
    sql`select count(*)::int as rows,
          coalesce(sum(ceil(billed_usd * 1000000)), 0)::bigint::text as micros,
          coalesce(sum(ceil(cost_usd * 1000000)), 0)::bigint::text as cost_micros
        from usage_events where tenant = ${tenant}`,
  );
  const row = result.rows[0] as { rows: number; micros: string; cost_micros: string };
  return { rows: Number(row.rows), micros: Number(row.micros), costMicros: Number(row.cost_micros) };
}

/** Replies of exactly max_tokens words, so real use comes close to the reservation. */
const LONG = "gpt-4o-mini+words=500";

/** Rows whose billed price is not exactly the terms' (exact decimals: numeric arithmetic in Postgres). */
async function wronglyBilledRows(tenant: string, billing: "cost" | "markup" | "tenant"): Promise<number> {
  const expected = {
    cost: sql`cost_usd`,
    markup: sql`cost_usd * 1.2`,
    tenant: sql`(prompt_tokens * 1300 + completion_tokens * 5100) / 1000000.0`,
  }[billing];
  const result = await testDb().execute(
    sql`select count(*)::int as wrong from usage_events
        where tenant = ${tenant} and billed_usd is distinct from ${expected}`,
  );
  return Number((result.rows[0] as { wrong: number }).wrong);
}

/**
 * The gateway of one acceptance run, its route answering max_tokens words (so real use comes close
 * to the reservation): billed at cost, at a plan's 20% markup, or at the tenant's own prices
 * (which replace its plan's 500% markup).
 */
function pricedGateway(
  billing: "cost" | "markup" | "tenant",
  tenant: string,
): { gw: TestGateway; model: string } {
  const terms = {
    cost: {},
    markup: { plans: { enterprise: { markup: 0.2 } } },
    tenant: {
      plans: { enterprise: { markup: 5 } },
      tenants: { [tenant]: { prices: [{ model: "billing-*", input: 1300, output: 5100 }] } },
    },
  }[billing];
  const model = newTenantId();
  const gw = gateway({
    routes: { [model]: { targets: [{ provider: "mock", model: LONG }], retries: 0 } },
    prices: [{ model: LONG, provider: "mock", input: 1000, output: 4000 }],
    billing: terms,
  });
  return { gw, model };
}

describe("prepaid balances", () => {
  it.each(["cost", "markup", "tenant"] as const)(
    "spends a dollar under concurrency without going below zero, then answers 402; ledger, usage and statement agree (billed at %s)",
    async (billing) => {
      const tenantId = newTenantId();
      const { gw, model } = pricedGateway(billing, tenantId);
      const { tenant, token } = await prepaidTenant(gw, "prepaid", tenantId);
      const topUp = await gw.fetch(
        `/admin/tenants/${tenant}/top-up`,
        adminJson("POST", { amount_micros: 1_000_000, reason: "test", idempotency_key: "first" }),
      );
      expect(topUp.status).toBe(201);
      // The same idempotency key again: nothing more is added.
      const repeat = await gw.fetch(
        `/admin/tenants/${tenant}/top-up`,
        adminJson("POST", { amount_micros: 1_000_000, idempotency_key: "first" }),
      );
      expect(repeat.status).toBe(200);

      const statuses: number[] = [];
      const spent = () => statuses.length > 0 && statuses.slice(-8).every((s) => s === 402);
      for (let round = 0; round < 20 && !spent(); round++) {
        const batch = await Promise.all(
          Array.from({ length: 8 }, () => gw.fetch("/v1/chat/completions", chatCall(token, model))),
        );
        for (const res of batch) {
          statuses.push(res.status);
          if (res.status === 402) {
            const body = (await res.json()) as { error: { code: string; type: string } };
            expect(body.error.code).toBe("insufficient_balance");
            expect(body.error.type).toBe("insufficient_quota");
          } else {
            expect(res.status).toBe(200);
            await res.arrayBuffer();
          }
        }
        const balance = (await (
          await gw.fetch(`/admin/tenants/${tenant}/balance`, adminJson("GET"))
        ).json()) as {
          live_micros: number;
        };
        expect(balance.live_micros).toBeGreaterThanOrEqual(0);
      }
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(5);
      expect(statuses.slice(-8).every((s) => s === 402)).toBe(true);

      const balance = (await (
        await gw.fetch(`/admin/tenants/${tenant}/balance`, adminJson("GET"))
      ).json()) as {
        live_micros: number;
        recorded_micros: number;
      };
      const usage = await usageMicros(tenant);
      expect(usage.rows).toBe(statuses.length);
      expect(await wronglyBilledRows(tenant, billing)).toBe(0);
      // The balance pays the billed price: more than the cost unless billed at cost.
      if (billing === "cost") expect(usage.micros).toBe(usage.costMicros);
      else expect(usage.micros).toBeGreaterThan(usage.costMicros);
      expect(balance.live_micros).toBe(1_000_000 - usage.micros);
      expect(balance.recorded_micros).toBe(balance.live_micros);

      const month = thisMonth();
      const statement = (await (
        await gw.fetch(`/admin/tenants/${tenant}/statement?month=${month}`, adminJson("GET"))
      ).json()) as Record<string, unknown> & {
        lines: { model: string; requests: number; billed_micros: number }[];
      };
      expect(statement).toMatchObject({
        opening_balance_micros: 0,
        top_ups_micros: 1_000_000,
        usage_micros: usage.micros,
        refunds_micros: 0,
        closing_balance_micros: balance.live_micros,
      });
      expect(statement.lines).toEqual([
        expect.objectContaining({ model, requests: statuses.length, billed_micros: usage.micros }),
      ]);
      const csv = await (
        await gw.fetch(`/admin/tenants/${tenant}/statement?month=${month}&format=csv`, adminJson("GET"))
      ).text();
      expect(csv).toContain(`closing_balance,,,,,${balance.live_micros}\r\n`);

      const ledger = (await (await gw.fetch(`/admin/tenants/${tenant}/ledger`, adminJson("GET"))).json()) as {
        data: { kind: string; amount_micros: number }[];
      };
      expect(ledger.data).toEqual([expect.objectContaining({ kind: "top_up", amount_micros: 1_000_000 })]);

      // A refund brings it back to life.
      const refund = await gw.fetch(
        `/admin/tenants/${tenant}/adjustments`,
        adminJson("POST", {
          kind: "refund",
          amount_micros: 500_000,
          reason: "goodwill",
          actor: "ops@example",
        }),
      );
      expect(refund.status).toBe(201);
      expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    },
  );

  it("leaves postpaid tenants unlimited", async () => {
    const { gw, model } = billingGateway();
    const { token } = await prepaidTenant(gw, "postpaid");
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
  });

  it("refuses a suspended tenant's keys with 403 at once, and serves them again when resumed", async () => {
    const { gw, model } = billingGateway();
    const { tenant, token } = await prepaidTenant(gw, "postpaid");
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    const suspend = await gw.fetch(`/admin/tenants/${tenant}`, adminJson("PATCH", { status: "suspended" }));
    expect(suspend.status).toBe(200);
    const refused = await gw.fetch("/v1/chat/completions", chatCall(token, model));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("tenant_suspended");
    const models = await gw.fetch("/v1/models", { headers: { authorization: `Bearer ${token}` } });
    expect(models.status).toBe(403);
    await gw.fetch(`/admin/tenants/${tenant}`, adminJson("PATCH", { status: "active" }));
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
  });

  it("refuses bad admin input with 400 and unknown tenants with 404", async () => {
    const { gw } = billingGateway();
    const { tenant } = await prepaidTenant(gw);
    const bad = await gw.fetch(`/admin/tenants/${tenant}/top-up`, adminJson("POST", { amount_micros: -5 }));
    expect(bad.status).toBe(400);
    const noReason = await gw.fetch(
      `/admin/tenants/${tenant}/adjustments`,
      adminJson("POST", { kind: "adjustment", amount_micros: 5 }),
    );
    expect(noReason.status).toBe(400);
    const month = await gw.fetch(`/admin/tenants/${tenant}/statement?month=2026-13`, adminJson("GET"));
    expect(month.status).toBe(400);
    const missing = await gw.fetch("/admin/tenants/nobody-here/balance", adminJson("GET"));
    expect(missing.status).toBe(404);
    const duplicate = await gw.fetch("/admin/tenants", adminJson("POST", { id: tenant }));
    expect(duplicate.status).toBe(409);
  });
});
