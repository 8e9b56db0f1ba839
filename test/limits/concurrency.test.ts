import { describe, expect, it } from "vitest";
import { admission, freshCaller, gateFor, testConfig } from "./support";

describe("concurrency (in-flight slots with a lease)", () => {
  it("admits 2 of 5 concurrent requests with concurrency 2, and a settled request frees its slot", async () => {
    const { gate } = gateFor(testConfig({ concurrency: 2 }));
    const caller = freshCaller();
    const results = await Promise.all(Array.from({ length: 5 }, () => gate.admit(admission(caller))));

    const running = results.filter((r) => r.error === null);
    const refused = results.filter((r) => r.error !== null);
    expect(running).toHaveLength(2);
    expect(refused).toHaveLength(3);
    for (const { error } of refused) {
      expect(error?.status).toBe(429);
      expect(error?.code).toBe("concurrency_limit_exceeded");
      expect(error?.headers["retry-after"]).toBe("1");
    }
    await Promise.all(refused.map((r) => r.settle({ tokens: 0, costMicros: 0 })));

    expect((await gate.admit(admission(caller))).error?.code).toBe("concurrency_limit_exceeded");
    await running[0]?.settle({ tokens: 1, costMicros: 0 });
    const next = await gate.admit(admission(caller));
    expect(next.error).toBeNull();
    expect((await gate.admit(admission(caller))).error?.code).toBe("concurrency_limit_exceeded");
  });

  it("frees the slot of a request that never settles once its lease runs out", async () => {
    const { gate, clock } = gateFor(testConfig({ concurrency: 1 }), { leaseMs: 30_000 });
    const caller = freshCaller();
    const crashed = await gate.admit(admission(caller)); // never settled
    expect(crashed.error).toBeNull();
    expect((await gate.admit(admission(caller))).error?.code).toBe("concurrency_limit_exceeded");

    clock.ms += 29_999;
    expect((await gate.admit(admission(caller))).error?.code).toBe("concurrency_limit_exceeded");
    clock.ms += 1;
    expect((await gate.admit(admission(caller))).error).toBeNull();
  });

  it("does not count a client's reused request id as the same slot", async () => {
    const { gate } = gateFor(testConfig({ concurrency: 1 }));
    const caller = freshCaller();
    const first = await gate.admit(admission(caller, { requestId: "same-id" }));
    const second = await gate.admit(admission(caller, { requestId: "same-id" }));
    expect(first.error).toBeNull();
    expect(second.error?.code).toBe("concurrency_limit_exceeded");
  });
});
