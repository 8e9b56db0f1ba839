import { describe, expect, it } from "vitest";
import { parseUsd, toUsdNumber } from "../../src/metering/prices";
import { usageRows } from "../admin/support";
import { gateway } from "../support/gateway";
import { adminJson, billingGateway, chatCall, newTenantId, prepaidTenant, thisMonth } from "./support";

const hourAgo = () => encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());

/** A chat call the response cache may answer (temperature 0). */
const cacheableCall = (key: string, model: string): RequestInit => {
  const init = chatCall(key, model);
  const body = JSON.parse(String(init.body)) as Record<string, unknown>;
  return { ...init, body: JSON.stringify({ ...body, temperature: 0 }) };
};

describe("billed prices through the gateway", () => {
  it("bills 1.2 × cost on a plan with a 20% markup, and /admin/usage reports cost, billed, margin and list cost", async () => {
    const { gw, model } = billingGateway({ billing: { plans: { enterprise: { markup: 0.2 } } } });
    const { tenant, token } = await prepaidTenant(gw, "postpaid");
    const charged: { header: string | null; usageCost: unknown }[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await gw.fetch("/v1/chat/completions", chatCall(token, model));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { usage: { cost: unknown } };
      charged.push({ header: res.headers.get("x-sluice-cost-usd"), usageCost: body.usage.cost });
    }

    const rows = await usageRows(tenant);
    expect(rows).toHaveLength(3);
    let cost = 0n;
    let billed = 0n;
    for (const row of rows) {
      const rowCost = parseUsd(String(row.cost_usd));
      const rowBilled = parseUsd(String(row.billed_usd));
      expect(rowCost).toBeGreaterThan(0n);
      // Exactly 1.2 × cost, in integer picodollars: 5 × billed = 6 × cost.
      expect(rowBilled * 5n).toBe(rowCost * 6n);
      cost += rowCost;
      billed += rowBilled;
      // The caller is shown what it pays (the billed price), never the operator's cost.
      expect(charged.map((c) => c.usageCost)).toContain(toUsdNumber(rowBilled));
      expect(charged.map((c) => c.header)).toContain(String(toUsdNumber(rowBilled)));
      expect(charged.map((c) => c.usageCost)).not.toContain(toUsdNumber(rowCost));
    }

    const res = await gw.fetch(
      `/admin/usage?from=${hourAgo()}&tenant=${tenant}&group_by=model`,
      adminJson("GET"),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: Record<string, string>[];
      totals: Record<string, string>;
    };
    for (const aggregate of [body.totals, body.data[0] ?? {}]) {
      expect(parseUsd(aggregate.cost_usd ?? "")).toBe(cost);
      expect(parseUsd(aggregate.billed_usd ?? "")).toBe(billed);
      expect(parseUsd(aggregate.margin_usd ?? "")).toBe(billed - cost);
      // No cost multiplier here: list price is the cost, nothing saved.
      expect(parseUsd(aggregate.list_cost_usd ?? "")).toBe(cost);
      expect(aggregate.provider_savings_usd).toBe("0");
    }

    const csv = await (
      await gw.fetch(`/admin/usage/export?format=csv&from=${hourAgo()}&tenant=${tenant}`, adminJson("GET"))
    ).text();
    const [header, first] = csv.split("\r\n");
    const columns = header?.split(",") ?? [];
    const fields = first?.split(",") ?? [];
    const billedField = fields[columns.indexOf("billed_usd")] ?? "";
    const costField = fields[columns.indexOf("cost_usd")] ?? "";
    expect(parseUsd(billedField) * 5n).toBe(parseUsd(costField) * 6n);
  });

  it("bills a response-cache hit 0, as it costs 0: the balance pays for the answer once", async () => {
    const model = newTenantId();
    const gw = gateway({
      routes: { [model]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], retries: 0, cache: {} } },
      prices: [{ model: "gpt-4o-mini", provider: "mock", input: 1000, output: 4000 }],
      billing: { plans: { enterprise: { markup: 0.2 } } },
    });
    const { tenant, token } = await prepaidTenant(gw);
    await gw.fetch(`/admin/tenants/${tenant}/top-up`, adminJson("POST", { amount_micros: 1_000_000 }));
    const first = await gw.fetch("/v1/chat/completions", cacheableCall(token, model));
    expect(first.headers.get("x-sluice-cache")).toBe("MISS");
    const second = await gw.fetch("/v1/chat/completions", cacheableCall(token, model));
    expect(second.headers.get("x-sluice-cache")).toBe("HIT");

    const rows = await usageRows(tenant);
    const hit = rows.find((row) => row.cache_hit === true);
    const miss = rows.find((row) => row.cache_hit === false);
    expect(hit?.billed_usd).toBe("0.000000000000");
    const billed = parseUsd(String(miss?.billed_usd));
    expect(billed).toBeGreaterThan(0n);
    const balance = (await (await gw.fetch(`/admin/tenants/${tenant}/balance`, adminJson("GET"))).json()) as {
      live_micros: number;
    };
    expect(balance.live_micros).toBe(1_000_000 - Number((billed + 999_999n) / 1_000_000n));
  });

  it("prints the statement as HTML, escaping a hostile tenant name", async () => {
    const { gw, model } = billingGateway();
    const name = `<script>alert("x")</script><img src=x onerror=alert(1)> & 'co'`;
    const { tenant, token } = await prepaidTenant(gw, "prepaid", undefined, name);
    await gw.fetch(`/admin/tenants/${tenant}/top-up`, adminJson("POST", { amount_micros: 1_000_000 }));
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    const month = thisMonth();
    const json = (await (
      await gw.fetch(`/admin/tenants/${tenant}/statement?month=${month}`, adminJson("GET"))
    ).json()) as { tenant_name: string; closing_balance_micros: number; usage_micros: number };
    expect(json.tenant_name).toBe(name);

    for (const init of [
      { path: `?month=${month}&format=html`, headers: {} as Record<string, string> },
      { path: `?month=${month}`, headers: { accept: "text/html,application/xhtml+xml;q=0.9" } },
    ]) {
      const base = adminJson("GET");
      const res = await gw.fetch(`/admin/tenants/${tenant}/statement${init.path}`, {
        ...base,
        headers: { ...(base.headers as Record<string, string>), ...init.headers },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain("script-src");
      const html = await res.text();
      expect(html).not.toContain("<script");
      expect(html).not.toContain("<img");
      expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
      expect(html).toContain("&amp; &#39;co&#39;");
      expect(html).toContain(escapeText(model));
      const micros = json.closing_balance_micros;
      expect(html).toContain(`$${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`);
    }
  });
});

const escapeText = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
