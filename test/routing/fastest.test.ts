import { afterEach, describe, expect, it, vi } from "vitest";
import { countRedisFetches } from "../limits/support";
import { gateway } from "../support/gateway";
import { chatWith, faultyFetch, freshKey, mockCounts, twoTargets, uniqueModel } from "./support";

describe("strategy: fastest", () => {
  it("follows the mock's injected latency: traffic leaves a slow target and comes back when it is fast", async () => {
    const a = uniqueModel("a");
    const b = uniqueModel("b");
    const { route, config } = twoTargets("fastest", [a, 1, 1], [b, 1, 1], { explore_ratio: 0.2 });
    const faults = new Map<string, string>();
    // `random` decides exploration: 0.99 never explores (explore_ratio 0.2), 0 always does.
    let roll = 0.99;
    const gw = gateway(config, { fetcher: faultyFetch(faults), random: () => roll });
    const { token } = await freshKey();
    const served = async () => {
      const res = await gw.fetch("/v1/chat/completions", chatWith(token, route));
      expect(res.status).toBe(200);
      return res.headers.get("x-sluice-model");
    };

    // Unmeasured targets are tried first, in order: a (slow), then b; then b, the faster.
    faults.set(a, "slow-first-byte-250");
    expect(await served()).toBe(a);
    expect(await served()).toBe(b);
    for (let i = 0; i < 4; i++) expect(await served()).toBe(b);
    expect(await mockCounts(a, b)).toEqual([1, 5]);

    // b slows down past a's old figure: within a few requests its average passes a's, and
    // traffic goes back to a, now fast.
    faults.delete(a);
    faults.set(b, "slow-first-byte-700");
    const sequence: (string | null)[] = [];
    for (let i = 0; i < 12 && sequence.at(-1) !== a; i++) sequence.push(await served());
    expect(sequence.at(-1)).toBe(a);
    expect(sequence.slice(0, -1).every((model) => model === b)).toBe(true);
    for (let i = 0; i < 3; i++) expect(await served()).toBe(a);

    // Exploration: a request that rolls under explore_ratio goes first to the other target,
    // so a target that recovered is noticed; the next ones are back on the fastest.
    roll = 0;
    expect(await served()).toBe(b);
    roll = 0.99;
    expect(await served()).toBe(a);

    // Another isolate starts from the estimates this one shared through Redis (written with its
    // settlement batches, read in the admission's round trip): it does not need to try b first.
    const other = gateway(config, { random: () => 0.99 });
    const before = await mockCounts(a, b);
    const res = await other.fetch("/v1/chat/completions", chatWith(token, route));
    expect(res.headers.get("x-sluice-model")).toBe(a);
    expect(await mockCounts(a, b)).toEqual([(before[0] ?? 0) + 1, before[1]]);
    expect(other.services.latency.estimate(`mock-b/${b}`)).toBeGreaterThan(
      other.services.latency.estimate(`mock/${a}`) ?? Number.POSITIVE_INFINITY,
    );
  });
});

describe("sharing latency estimates", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("costs no Redis round trip of its own: a `fastest` request makes as many as a `fallback` one", async () => {
    const redisFetches = countRedisFetches();
    const { token } = await freshKey();
    const fetchesOf = async (strategy: string) => {
      const a = uniqueModel("a");
      const { route, config } = twoTargets(strategy, [a, 1, 1], [uniqueModel("b"), 1, 1]);
      const gw = gateway(config);
      // Warm up: the scripts' SHA-1 digests are learned on first use.
      await gw.fetch("/v1/chat/completions", chatWith(token, route));
      const before = redisFetches();
      const res = await gw.fetch("/v1/chat/completions", chatWith(token, route));
      expect(res.status).toBe(200);
      return {
        fetches: redisFetches() - before,
        gw,
        key: `sluice:latency:${res.headers.get("x-sluice-provider")}/${res.headers.get("x-sluice-model")}`,
      };
    };
    const plain = await fetchesOf("fallback");
    const timed = await fetchesOf("fastest");
    expect(timed.fetches).toBe(plain.fetches);
    // ...and yet the estimate was published, with the settlement batch.
    expect(String(await timed.gw.services.redis.get(timed.key))).toMatch(/^\d+:\d+$/);
    expect(await plain.gw.services.redis.get(plain.key)).toBeNull();
  });
});
