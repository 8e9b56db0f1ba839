import { describe, expect, it } from "vitest";
import { admission, freshCaller, gateFor, testConfig } from "./support";

describe("request rate (rpm, @upstash/ratelimit sliding window)", () => {
  it("lets exactly 20 of 50 concurrent requests through on a key with rpm 20", async () => {
    const { gate } = gateFor(testConfig());
    const caller = freshCaller({ limits: { rpm: 20 } });
    const admissions = await Promise.all(Array.from({ length: 50 }, () => gate.admit(admission(caller))));

    const allowed = admissions.filter((a) => a.error === null);
    const refused = admissions.filter((a) => a.error !== null);
    expect(allowed).toHaveLength(20);
    expect(refused).toHaveLength(30);
    for (const { error, headers } of refused) {
      expect(error?.status).toBe(429);
      expect(error?.code).toBe("rate_limit_exceeded");
      expect(error?.message).toContain("requests per min (RPM)");
      expect(Number(error?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(headers["x-ratelimit-limit-requests"]).toBe("20");
      expect(headers["x-ratelimit-remaining-requests"]).toBe("0");
    }
    await Promise.all(admissions.map((a) => a.settle({ tokens: 0, costMicros: 0 })));
  });

  it("uses the plan's rpm when the key sets none, and the key's own when it does", async () => {
    const { gate } = gateFor(testConfig({ rpm: 3 }));
    const planKey = freshCaller();
    const ownKey = freshCaller({ limits: { rpm: 5 } });
    const run = async (caller: ReturnType<typeof freshCaller>) => {
      const results = [];
      for (let i = 0; i < 7; i++) results.push(await gate.admit(admission(caller)));
      return results.filter((a) => a.error === null).length;
    };
    expect(await run(planKey)).toBe(3);
    expect(await run(ownKey)).toBe(5);
  });

  it("sends OpenAI's x-ratelimit-*-requests headers, counting down", async () => {
    const { gate } = gateFor(testConfig({ rpm: 10 }));
    const caller = freshCaller();
    const first = await gate.admit(admission(caller));
    const second = await gate.admit(admission(caller));
    expect(first.headers["x-ratelimit-limit-requests"]).toBe("10");
    expect(first.headers["x-ratelimit-remaining-requests"]).toBe("9");
    expect(second.headers["x-ratelimit-remaining-requests"]).toBe("8");
    expect(first.headers["x-ratelimit-reset-requests"]).toMatch(/^(\d+m)?\d+(\.\d+)?s$|^\d+ms$/);
  });
});
