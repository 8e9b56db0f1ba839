import type { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { createGate, createLimitsRedis } from "../../src/limits";
import { admission, freshCaller, gateFor, redis, T0, testConfig, withRedisStopped } from "./support";

const policyConfig = (plan: Record<string, number>, policy: Record<string, string> = {}) =>
  testConfig(plan, { failure_policy: policy });

const dayCounter = (keyId: string) => `sluice:budget:key:${keyId}:d:2030-06-15`;

describe("failure policy while redis-server is stopped", () => {
  it("by default: rate limits fall back to the local limiter, budgeted requests get 503, nothing throws", async () => {
    const logs: string[] = [];
    const { gate } = gateFor(policyConfig({ rpm: 2 }), { log: (_level, message) => logs.push(message) });
    const rateOnly = freshCaller();
    const budgeted = freshCaller({ limits: { budget_usd_day: 1 } });

    await withRedisStopped(async () => {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await gate.admit(admission(rateOnly)));
      expect(results.map((r) => r.error?.code ?? "ok")).toEqual(["ok", "ok", "rate_limit_exceeded"]);
      expect(results[0]?.headers["x-ratelimit-remaining-requests"]).toBe("1");

      const refused = await gate.admit(admission(budgeted, { worstCaseMicros: 100 }));
      expect(refused.error?.status).toBe(503);
      expect(refused.error?.code).toBe("limits_unavailable");
      expect(refused.error?.message).toContain("budgets");
      expect(refused.error?.headers["retry-after"]).toBe("1");
      await Promise.all([...results, refused].map((r) => r.settle({ tokens: 1, costMicros: 0 })));
    });
    expect(logs).toContain("limits store unreachable; applying the failure policy");

    // Back on Redis: the budget is checked and spent there again.
    const back = await gate.admit(admission(budgeted, { worstCaseMicros: 100 }));
    expect(back.error).toBeNull();
    await back.settle({ tokens: 1, costMicros: 40 });
    expect(Number(await redis.get(dayCounter(budgeted.keyId)))).toBe(40);
  });

  it("applies the local fallback to tokens and concurrency too", async () => {
    const { gate } = gateFor(policyConfig({ tpm: 100, concurrency: 1 }));
    const caller = freshCaller();
    await withRedisStopped(async () => {
      const first = await gate.admit(admission(caller, { estimatedTokens: 60 }));
      expect(first.error).toBeNull();
      expect((await gate.admit(admission(caller, { estimatedTokens: 60 }))).error?.code).toBe(
        "rate_limit_exceeded",
      );
      expect((await gate.admit(admission(caller, { estimatedTokens: 1 }))).error?.code).toBe(
        "concurrency_limit_exceeded",
      );
      await first.settle({ tokens: 10, costMicros: 0 });
      expect((await gate.admit(admission(caller, { estimatedTokens: 60 }))).error).toBeNull();
    });
  });

  it("follows the opposite policy when configured: rate limits closed, budgets open, revocation closed", async () => {
    const closedRates = gateFor(policyConfig({ rpm: 5 }, { rate_limits: "closed", budgets: "open" })).gate;
    const closedRevocation = gateFor(
      policyConfig({ budget_usd_day: 5 }, { budgets: "open", revocation: "closed" }),
    ).gate;
    const openBudgets = gateFor(policyConfig({ budget_usd_day: 5 }, { budgets: "open" })).gate;
    const spender = freshCaller();
    let admittedOpen: Awaited<ReturnType<typeof openBudgets.admit>> | undefined;
    await withRedisStopped(async () => {
      const refused = await closedRates.admit(admission(freshCaller()));
      expect(refused.error?.status).toBe(503);
      expect(refused.error?.message).toContain("rate limits");

      const unchecked = await closedRevocation.admit(admission(freshCaller(), { worstCaseMicros: 10 }));
      expect(unchecked.error?.status).toBe(503);
      expect(unchecked.error?.message).toContain("key revocation");

      admittedOpen = await openBudgets.admit(admission(spender, { worstCaseMicros: 100 }));
      expect(admittedOpen.error).toBeNull();
    });
    // Settled once Redis is back: the real spend of the request admitted open is still counted.
    await admittedOpen?.settle({ tokens: 5, costMicros: 70 });
    expect(Number(await redis.get(dayCounter(spender.keyId)))).toBe(70);
  });
});

describe("failure policy when Redis cannot be reached or never answers", () => {
  it("treats a refused connection like a stopped Redis", async () => {
    // Nothing listens on port 1. (workerd logs the failed fetch as "uncaught" even though it is caught.)
    const unreachable = createLimitsRedis({ url: "http://127.0.0.1:1", token: "unused" });
    const gate = createGate({
      redis: unreachable,
      config: policyConfig({ rpm: 2, budget_usd_day: 1 }),
      now: () => T0,
    });
    const result = await gate.admit(admission(freshCaller(), { worstCaseMicros: 1 }));
    expect(result.error?.code).toBe("limits_unavailable");
  });

  it("answers within its deadline when Redis never replies", async () => {
    const never = new Promise<never>(() => {});
    const silent = { eval: () => never, evalsha: () => never } as unknown as Redis;
    const gate = createGate({
      redis: silent,
      config: policyConfig({ rpm: 1 }),
      timeoutMs: 50,
      now: () => T0,
    });
    const caller = freshCaller();
    const first = await gate.admit(admission(caller));
    const second = await gate.admit(admission(caller));
    expect(first.error).toBeNull();
    expect(second.error?.code).toBe("rate_limit_exceeded"); // the local limiter decided
  });
});
