import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admission,
  bridgeStats,
  controlCall,
  countRedisFetches,
  freshCaller,
  gateFor,
  redis,
  testConfig,
} from "./support";

/** Every limit the gate knows, so the count covers the fullest admission. */
const fullConfig = (tenant: string) =>
  testConfig(
    { rpm: 100, tpm: 100_000, concurrency: 50, budget_usd_day: 10, budget_usd_month: 100 },
    { tenant_limits: { [tenant]: { budget_usd_day: 50, budget_usd_month: 500 } } },
  );

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Runs `action` a few times and returns this isolate's Redis fetches (exact) and the bridge's
 * counts (global: test files running in parallel can only add to them, so the lowest is ours).
 */
async function measure(action: () => Promise<unknown>, times = 3) {
  const fetches = countRedisFetches();
  const fetchCounts: number[] = [];
  const bridge: { requests: number; commands: number }[] = [];
  for (let i = 0; i < times; i++) {
    const before = fetches();
    await controlCall("POST", "/redis/reset-stats");
    await action();
    bridge.push(await bridgeStats());
    fetchCounts.push(fetches() - before);
  }
  const quietest = bridge.reduce((a, b) => (b.requests < a.requests ? b : a));
  return { fetchCounts, quietest };
}

describe("one Redis round trip per admission", () => {
  it("decides revocation, rpm, tpm, budgets, concurrency and breakers in ONE bridge request", async () => {
    const caller = freshCaller();
    const { gate } = gateFor(fullConfig(caller.tenant));
    const request = () =>
      admission(caller, {
        worstCaseMicros: 5000,
        breakerKeys: ["sluice:breaker:test-a", "sluice:breaker:test-b"],
      });
    // Warm up: the gate learns its scripts' SHA-1 and Redis caches @upstash/ratelimit's script.
    await (await gate.admit(request())).settle({ tokens: 5, costMicros: 100 });

    const admissions: Awaited<ReturnType<typeof gate.admit>>[] = [];
    const { fetchCounts, quietest } = await measure(async () => admissions.push(await gate.admit(request())));
    expect(admissions.every((a) => a.error === null)).toBe(true);
    expect(fetchCounts).toEqual([1, 1, 1]);
    expect(quietest.requests).toBe(1);
    // The gate's Lua script plus the key's sliding window, in that one pipeline.
    expect(quietest.commands).toBe(2);

    const settles = await measure(
      () => admissions.pop()?.settle({ tokens: 5, costMicros: 100 }) ?? Promise.resolve(),
    );
    expect(settles.fetchCounts).toEqual([1, 1, 1]);
    expect(settles.quietest.requests).toBe(1);
  });

  it("costs one request per admission, sequentially", async () => {
    const caller = freshCaller();
    const { gate } = gateFor(fullConfig(caller.tenant));
    await gate.admit(admission(caller));
    const { fetchCounts, quietest } = await measure(async () => {
      for (let i = 0; i < 5; i++) await gate.admit(admission(caller, { worstCaseMicros: 1000 }));
    });
    expect(fetchCounts).toEqual([5, 5, 5]);
    expect(quietest.requests).toBe(5);
  });

  it("costs one request on a fresh isolate's first admission too (script sent by EVAL)", async () => {
    const caller = freshCaller();
    // Another gate has already made Redis cache @upstash/ratelimit's script.
    await gateFor(fullConfig(caller.tenant)).gate.admit(admission(caller));
    const { fetchCounts, quietest } = await measure(async () => {
      const fresh = gateFor(fullConfig(caller.tenant)).gate;
      expect((await fresh.admit(admission(caller, { worstCaseMicros: 1000 }))).error).toBeNull();
    });
    expect(fetchCounts).toEqual([1, 1, 1]);
    expect(quietest.requests).toBe(1);
  });

  it("returns the breaker keys' values read in the same round trip", async () => {
    const open = `sluice:breaker:${crypto.randomUUID()}`;
    const closed = `sluice:breaker:${crypto.randomUUID()}`;
    await redis.set(open, "1900000000000", { ex: 60 });
    const { gate } = gateFor(testConfig());
    const result = await gate.admit(admission(freshCaller(), { breakerKeys: [open, closed] }));
    expect(result.breakerState).toEqual(["1900000000000", null]);
  });
});
