import { describe, expect, it } from "vitest";
import { usageRows } from "../admin/support";
import { mockProviders } from "../support/gateway";
import { adminJson, billingGateway, chatCall, prepaidTenant } from "./support";

describe("provider cost multipliers", () => {
  it("records cost = 0.14 × list on the usage row and reports the saving in /admin/usage", async () => {
    const { gw, model } = billingGateway({
      providers: { ...mockProviders, mock: { ...mockProviders.mock, cost_multiplier: 0.14 } },
    });
    const { tenant, token } = await prepaidTenant(gw, "postpaid");
    for (let i = 0; i < 3; i++)
      expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);

    const rows = await usageRows(tenant);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const list = Number(row.list_cost_usd);
      expect(list).toBeGreaterThan(0);
      // Exact: mock usage is whole tokens at whole-dollar prices, so 0.14 × list needs no rounding.
      expect(Number(row.cost_usd)).toBeCloseTo(list * 0.14, 12);
    }
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const res = await gw.fetch(
      `/admin/usage?from=${encodeURIComponent(from)}&tenant=${tenant}`,
      adminJson("GET"),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { totals: Record<string, string> };
    const cost = Number(body.totals.cost_usd);
    const list = Number(body.totals.list_cost_usd);
    expect(cost).toBeCloseTo(list * 0.14, 12);
    expect(Number(body.totals.provider_savings_usd)).toBeCloseTo(list - cost, 12);
  });
});
