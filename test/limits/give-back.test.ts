import { describe, expect, it } from "vitest";
import { admission, freshCaller, gateFor, redis, T0, testConfig } from "./support";

const window = Math.floor(T0 / 60_000);

describe("a refused request costs nothing", () => {
  it("gives back the tokens, budget and slot the script reserved when the request rate refuses", async () => {
    const { gate } = gateFor(testConfig({ rpm: 1, tpm: 1000, concurrency: 5, budget_usd_day: 1 }));
    const caller = freshCaller();
    const admitted = await gate.admit(admission(caller, { estimatedTokens: 10, worstCaseMicros: 100 }));
    const refused = await gate.admit(admission(caller, { estimatedTokens: 10, worstCaseMicros: 100 }));
    expect(admitted.error).toBeNull();
    expect(refused.error?.code).toBe("rate_limit_exceeded");
    await refused.settle({ tokens: 999, costMicros: 999 }); // a refused admission settles to nothing

    expect(Number(await redis.get(`sluice:tpm:key:${caller.keyId}:${window}`))).toBe(10);
    expect(Number(await redis.get(`sluice:budget:key:${caller.keyId}:d:2030-06-15`))).toBe(100);
    expect(await redis.zcard(`sluice:inflight:key:${caller.keyId}`)).toBe(1);
  });

  it("hands the give-back to waitUntil when the caller passes it", async () => {
    const { gate } = gateFor(testConfig({ rpm: 1 }));
    const caller = freshCaller();
    await gate.admit(admission(caller));
    const background: Promise<unknown>[] = [];
    const refused = await gate.admit(admission(caller, { waitUntil: (p) => background.push(p) }));
    expect(refused.error).not.toBeNull();
    expect(background).toHaveLength(1);
    await Promise.all(background);
  });
});
