import { describe, expect, it } from "vitest";
import { admission, freshCaller, gateFor, redis, testConfig } from "../limits/support";

const prepaid = async (tenant: string, micros: number) => {
  await redis.hset(`sluice:tenant:${tenant}`, { prepaid: "1" });
  await redis.set(`sluice:balance:${tenant}`, micros);
};

describe("prepaid balance in the gate's round trip", () => {
  it("never lets concurrent requests take more than the balance, and refuses with 402 when empty", async () => {
    const { gate } = gateFor(testConfig());
    const caller = freshCaller();
    await prepaid(caller.tenant, 10_000);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => gate.admit(admission(caller, { worstCaseMicros: 3000 }))),
    );
    const admitted = results.filter((r) => r.error === null);
    expect(admitted).toHaveLength(3);
    for (const refused of results.filter((r) => r.error !== null)) {
      expect(refused.error?.status).toBe(402);
      expect(refused.error?.code).toBe("insufficient_balance");
    }
    await Promise.all(admitted.map((r) => r.settle({ tokens: 1, costMicros: 2000 })));
    expect(Number(await redis.get(`sluice:balance:${caller.tenant}`))).toBe(4000);
    const last = await gate.admit(admission(caller, { worstCaseMicros: 4000 }));
    expect(last.error).toBeNull();
    await last.settle({ tokens: 1, costMicros: 4000 });
    const empty = await gate.admit(admission(caller, { worstCaseMicros: null }));
    expect(empty.error?.status).toBe(402);
    expect(Number(await redis.get(`sluice:balance:${caller.tenant}`))).toBe(0);
  });

  it("takes the billed worst case from the balance and settles the billed price, while budgets count cost", async () => {
    const { gate } = gateFor(testConfig({ budget_usd_day: 1 }));
    const caller = freshCaller();
    await prepaid(caller.tenant, 10_000);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        gate.admit(admission(caller, { worstCaseMicros: 3000, worstCaseBilledMicros: 3600 })),
      ),
    );
    // 10,000 holds two billed worst cases (3,600 each), not three as it would at cost.
    const admitted = results.filter((r) => r.error === null);
    expect(admitted).toHaveLength(2);
    const refused = results.find((r) => r.error !== null);
    expect(refused?.error?.code).toBe("insufficient_balance");
    await Promise.all(admitted.map((r) => r.settle({ tokens: 1, costMicros: 2000, billedMicros: 2400 })));
    expect(Number(await redis.get(`sluice:balance:${caller.tenant}`))).toBe(10_000 - 2 * 2400);
    expect(Number(await redis.get(`sluice:budget:key:${caller.keyId}:d:2030-06-15`))).toBe(2 * 2000);
  });

  it("leaves tenants that are not prepaid unlimited", async () => {
    const { gate } = gateFor(testConfig());
    const caller = freshCaller();
    const admitted = await gate.admit(admission(caller, { worstCaseMicros: 3000 }));
    expect(admitted.error).toBeNull();
    await admitted.settle({ tokens: 1, costMicros: 3000 });
    expect(await redis.get(`sluice:balance:${caller.tenant}`)).toBeNull();
  });

  it("refuses every key of a suspended tenant with 403", async () => {
    const { gate } = gateFor(testConfig());
    const caller = freshCaller();
    await redis.hset(`sluice:tenant:${caller.tenant}`, { suspended: "1" });
    const refused = await gate.admit(admission(caller));
    expect(refused.error?.status).toBe(403);
    expect(refused.error?.code).toBe("tenant_suspended");
  });
});
