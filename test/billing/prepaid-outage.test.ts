import { describe, expect, it } from "vitest";
import { reconcileBalances } from "../../src/billing/reconcile";
import { silentLog } from "../../src/log";
import { admission, freshCaller, gateFor, redis, testConfig, withRedisStopped } from "../limits/support";
import { adminJson, billingGateway, chatCall, prepaidTenant } from "./support";

const prepaid = async (tenant: string, micros: number) => {
  await redis.hset(`sluice:tenant:${tenant}`, { prepaid: "1" });
  await redis.set(`sluice:balance:${tenant}`, micros);
};

describe("prepaid tenants while redis-server is stopped", () => {
  it("refuses a tenant known to be prepaid with 503 limits_unavailable, whatever the failure policy, and lets others through as before", async () => {
    // No budgets on the plan and budgets `open`: without the prepaid rule this would all fall open.
    const { gate } = gateFor(testConfig({}, { failure_policy: { budgets: "open" } }));
    const buyer = freshCaller();
    const postpaid = freshCaller();
    await prepaid(buyer.tenant, 1_000_000);
    for (const caller of [buyer, postpaid]) {
      const seen = await gate.admit(admission(caller, { worstCaseMicros: 100 }));
      expect(seen.error).toBeNull();
      await seen.settle({ tokens: 1, costMicros: 50 });
    }

    await withRedisStopped(async () => {
      const refused = await gate.admit(admission(buyer, { worstCaseMicros: 100 }));
      expect(refused.error?.status).toBe(503);
      expect(refused.error?.code).toBe("limits_unavailable");
      expect(refused.error?.message).toContain("prepaid balance");
      expect(refused.error?.headers["retry-after"]).toBe("1");
      // Unpriced work too: the balance can't be checked at all.
      expect((await gate.admit(admission(buyer, { worstCaseMicros: null }))).error?.status).toBe(503);

      const open = await gate.admit(admission(postpaid, { worstCaseMicros: 100 }));
      expect(open.error).toBeNull();
      await Promise.all([
        refused.settle({ tokens: 0, costMicros: 0 }),
        open.settle({ tokens: 1, costMicros: 0 }),
      ]);
    });
  });

  it("answers a prepaid tenant's request 503 through the gateway; the cron's reconcile restores what a restarted Redis lost", async () => {
    const { gw, model } = billingGateway();
    const { tenant, token } = await prepaidTenant(gw);
    await gw.fetch(`/admin/tenants/${tenant}/top-up`, adminJson("POST", { amount_micros: 1_000_000 }));
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);

    await withRedisStopped(async () => {
      const res = await gw.fetch("/v1/chat/completions", chatCall(token, model));
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; type: string } };
      expect(body.error).toMatchObject({ code: "limits_unavailable", type: "server_error" });
    });
    // This redis-server keeps nothing across a restart: the tenant's state and balance come back
    // from Postgres on the next cron run, and its requests are metered against them again.
    const [restored] = (await reconcileBalances(await gw.services.db(), gw.services.redis, silentLog)).filter(
      (d) => d.tenant === tenant,
    );
    expect(restored?.drift_micros).toBe(0);
    expect(restored?.live_micros).toBeLessThan(1_000_000);
    expect((await gw.fetch("/v1/chat/completions", chatCall(token, model))).status).toBe(200);
    expect(Number(await gw.services.redis.get(`sluice:balance:${tenant}`))).toBeLessThan(
      restored?.live_micros ?? 0,
    );
  });
});
