import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admission,
  bridgeStats,
  controlCall,
  freshCaller,
  gateFor,
  redis,
  testConfig,
} from "../limits/support";

/** Counts this isolate's HTTP requests to the Redis bridge. */
function countRedisFetches() {
  const origin = new URL(env.UPSTASH_REDIS_REST_URL as string).origin;
  const spy = vi.spyOn(globalThis, "fetch");
  return () =>
    spy.mock.calls.filter(
      ([input]) => new URL(input instanceof Request ? input.url : String(input)).origin === origin,
    ).length;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the response cache's lookup", () => {
  it("rides the gate's one round trip: one bridge request, one more command", async () => {
    const caller = freshCaller();
    const { gate } = gateFor(testConfig({ rpm: 100, tpm: 100_000, concurrency: 10 }));
    const key = `sluice:rc:test:${crypto.randomUUID()}`;
    await redis.set(key, "stored-value", { ex: 60 });
    await (await gate.admit(admission(caller))).settle({ tokens: 1, costMicros: 0 });

    const fetches = countRedisFetches();
    const counts: { requests: number; commands: number }[] = [];
    const values: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      await controlCall("POST", "/redis/reset-stats");
      const admitted = await gate.admit(admission(caller, { cacheKey: key }));
      counts.push(await bridgeStats());
      values.push(admitted.cached);
      await admitted.settle({ tokens: 0, costMicros: 0 });
    }
    expect(fetches()).toBe(6); // three admissions and three settlements
    const quietest = counts.reduce((a, b) => (b.requests < a.requests ? b : a));
    expect(quietest.requests).toBe(1);
    // The gate's script, the key's sliding window, and the GET.
    expect(quietest.commands).toBe(3);
    expect(values).toEqual(["stored-value", "stored-value", "stored-value"]);

    const miss = await gate.admit(admission(caller, { cacheKey: `${key}:absent` }));
    expect(miss.cached).toBeNull();
    await miss.settle({ tokens: 0, costMicros: 0 });
  });
});
