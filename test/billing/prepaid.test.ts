import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testDb } from "../admin/support";
import { adminJson, billingGateway, chatCall, prepaidTenant, thisMonth } from "./support";

/** Micro-dollars the usage rows took, as the gate settles them: each row's cost rounded up. */
async function usageMicros(tenant: string): Promise<{ rows: number; micros: number }> {
  const result = await testDb().execute(
    sql`select count(*)::int as rows, coalesce(sum(ceil(cost_usd * 1000000)), 0)::bigint::text as micros
        from usage_events where tenant = ${tenant}`,
  );
  const row = result.rows[0] as { rows: number; micros: string };
  return { rows: Number(row.rows), micros: Number(row.micros) };
}

describe("prepaid balances", () => {
  it("spends $1 under concurrency without going below zero, then answers 402; ledger, usage and statement agree", async () => {
    const { gw, model } = billingGateway();
    const { tenant, token } = await prepaidTenant(gw);
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

    const balance = (await (await gw.fetch(`/admin/tenants/${tenant}/balance`, adminJson("GET"))).json()) as {
      live_micros: number;
      recorded_micros: number;
    };
    const usage = await usageMicros(tenant);
    expect(usage.rows).toBe(statuses.length);
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
      adminJson("POST", { kind: "refund", amount_micros: 500_000, reason: "goodwill", actor: "ops@example" }),
    );
    expect(refund.status).toBe(201);
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
  });

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
