import { describe, expect, it } from "vitest";
import { admission, freshCaller, gateFor, redis, testConfig } from "./support";

/** The key's daily counter, as the gate names it (UTC day of T0). */
const dayCounter = (keyId: string, day = "2030-06-15") => `sluice:budget:key:${keyId}:d:${day}`;

describe("dollar budgets (micro-dollar reservations)", () => {
  it("never lets concurrent requests spend past a small budget", async () => {
    const { gate } = gateFor(testConfig({ budget_usd_day: 0.01 })); // 10,000 micro-dollars
    const caller = freshCaller();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => gate.admit(admission(caller, { worstCaseMicros: 3000 }))),
    );
    const admitted = results.filter((r) => r.error === null);
    expect(admitted).toHaveLength(3);
    for (const refused of results.filter((r) => r.error !== null)) {
      expect(refused.error?.status).toBe(429);
      expect(refused.error?.type).toBe("insufficient_quota");
      expect(refused.error?.code).toBe("insufficient_quota");
      expect(refused.error?.headers["x-should-retry"]).toBe("false");
    }
    const settledCosts = [2500, 2999, 1];
    await Promise.all(admitted.map((r, i) => r.settle({ tokens: 10, costMicros: settledCosts[i] ?? 0 })));
    await Promise.all(results.map((r) => r.settle({ tokens: 0, costMicros: 0 })));

    const spent = Number(await redis.get(dayCounter(caller.keyId)));
    expect(spent).toBe(5500);
    expect(spent).toBeLessThanOrEqual(10_000);
    // 4,500 left: a 5,000 worst case does not fit, a 4,500 one does, then nothing more.
    expect((await gate.admit(admission(caller, { worstCaseMicros: 5000 }))).error?.code).toBe(
      "insufficient_quota",
    );
    expect((await gate.admit(admission(caller, { worstCaseMicros: 4500 }))).error).toBeNull();
    expect((await gate.admit(admission(caller, { worstCaseMicros: 1 }))).error?.code).toBe(
      "insufficient_quota",
    );
  });

  it("refuses an unpriced request once the budget is spent", async () => {
    const { gate } = gateFor(testConfig({ budget_usd_day: 0.001 }));
    const caller = freshCaller();
    expect((await gate.admit(admission(caller, { worstCaseMicros: null }))).error).toBeNull();
    await (await gate.admit(admission(caller, { worstCaseMicros: 1000 }))).settle({
      tokens: 0,
      costMicros: 1000,
    });
    expect((await gate.admit(admission(caller, { worstCaseMicros: null }))).error?.code).toBe(
      "insufficient_quota",
    );
  });

  it("resets the daily budget at the UTC day boundary", async () => {
    const { gate, clock } = gateFor(testConfig({ budget_usd_day: 0.001, budget_usd_month: 1 }));
    const caller = freshCaller();
    clock.ms = Date.UTC(2030, 5, 15, 23, 59, 59, 999);
    await (await gate.admit(admission(caller, { worstCaseMicros: 1000 }))).settle({
      tokens: 0,
      costMicros: 1000,
    });
    const refused = await gate.admit(admission(caller, { worstCaseMicros: 1 }));
    expect(refused.error?.code).toBe("insufficient_quota");
    expect(refused.error?.message).toContain("daily budget");
    expect(refused.error?.message).toContain("2030-06-16T00:00:00.000Z");
    expect(refused.error?.headers["retry-after"]).toBe("1");

    clock.ms = Date.UTC(2030, 5, 16, 0, 0, 0, 0);
    expect((await gate.admit(admission(caller, { worstCaseMicros: 1000 }))).error).toBeNull();
  });

  it("resets the monthly budget at the UTC month boundary", async () => {
    const { gate, clock } = gateFor(testConfig({ budget_usd_day: 1, budget_usd_month: 0.002 }));
    const caller = freshCaller();
    clock.ms = Date.UTC(2030, 5, 29, 12);
    await (await gate.admit(admission(caller, { worstCaseMicros: 1000 }))).settle({
      tokens: 0,
      costMicros: 1000,
    });
    clock.ms = Date.UTC(2030, 5, 30, 23, 59, 59);
    await (await gate.admit(admission(caller, { worstCaseMicros: 1000 }))).settle({
      tokens: 0,
      costMicros: 1000,
    });
    const refused = await gate.admit(admission(caller, { worstCaseMicros: 1 }));
    expect(refused.error?.message).toContain("monthly budget");

    clock.ms = Date.UTC(2030, 6, 1);
    expect((await gate.admit(admission(caller, { worstCaseMicros: 2000 }))).error).toBeNull();
  });

  it("shares a tenant budget across the tenant's keys", async () => {
    const tenant = `tenant-${crypto.randomUUID()}`;
    const config = testConfig({}, { tenant_limits: { [tenant]: { budget_usd_day: 0.005 } } });
    const { gate } = gateFor(config);
    const a = freshCaller({ tenant });
    const b = freshCaller({ tenant });
    expect((await gate.admit(admission(a, { worstCaseMicros: 3000 }))).error).toBeNull();
    const refused = await gate.admit(admission(b, { worstCaseMicros: 3000 }));
    expect(refused.error?.code).toBe("insufficient_quota");
    expect(refused.error?.message).toContain(`tenant ${tenant}`);
    expect((await gate.admit(admission(freshCaller(), { worstCaseMicros: 3000 }))).error).toBeNull();
  });

  it("gives back the request a budget refusal would have cost (rpm, tokens)", async () => {
    const { gate } = gateFor(testConfig({ rpm: 2, tpm: 100, budget_usd_day: 0.001 }));
    const caller = freshCaller();
    for (let i = 0; i < 3; i++) {
      const refused = await gate.admit(admission(caller, { worstCaseMicros: 5000, estimatedTokens: 100 }));
      expect(refused.error?.code).toBe("insufficient_quota");
      await refused.settle({ tokens: 0, costMicros: 0 });
    }
    const fits = () => gate.admit(admission(caller, { worstCaseMicros: 100, estimatedTokens: 50 }));
    expect((await fits()).error).toBeNull();
    expect((await fits()).error).toBeNull();
    expect((await fits()).error?.code).toBe("rate_limit_exceeded");
  });

  it("counts the budget in the period the request was admitted in, even if settled after midnight", async () => {
    const { gate, clock } = gateFor(testConfig({ budget_usd_day: 1 }));
    const caller = freshCaller();
    clock.ms = Date.UTC(2030, 5, 15, 23, 59, 59);
    const admitted = await gate.admit(admission(caller, { worstCaseMicros: 5000 }));
    clock.ms = Date.UTC(2030, 5, 16, 0, 0, 5);
    await admitted.settle({ tokens: 0, costMicros: 1234 });
    expect(Number(await redis.get(dayCounter(caller.keyId)))).toBe(1234);
    expect(await redis.get(dayCounter(caller.keyId, "2030-06-16"))).toBeNull();
  });
});
