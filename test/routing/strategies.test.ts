import { describe, expect, it } from "vitest";
import type { RouteConfig } from "../../src/config";
import { ConfigSchema } from "../../src/config/schema";
import { spendShare } from "../../src/limits/spend-share";
import {
  chainTargets,
  chooseRoute,
  downgradeChain,
  LatencyTracker,
  orderTargets,
  sharedStateRead,
  targetKey,
} from "../../src/routing";
import { CircuitBreakers } from "../../src/routing/breaker";

const providers = { a: { preset: "openai" }, b: { preset: "deepseek" }, c: { preset: "holysheep" } };
const three = [
  { provider: "a", model: "x" },
  { provider: "b", model: "y" },
  { provider: "c", model: "z" },
];

function routes(raw: Record<string, unknown>): Record<string, RouteConfig> {
  return ConfigSchema.parse({ providers, routes: raw }).routes;
}
const route = (raw: unknown): RouteConfig => routes({ m: raw }).m as RouteConfig;
const names = (targets: { provider: string }[]) => targets.map((t) => t.provider);

describe("cheapest", () => {
  const r = route({ strategy: "cheapest", targets: three });

  it("puts the lowest cost for this request first, the rest by cost, unpriced last", () => {
    const costs = new Map([
      ["a", 300],
      ["b", null],
      ["c", 100],
    ]);
    const order = orderTargets(r, () => 0.5, { cost: (t) => costs.get(t.provider) ?? null });
    expect(names(order)).toEqual(["c", "a", "b"]);
  });

  it("keeps the configured order between equal prices, and without prices", () => {
    expect(names(orderTargets(r, Math.random, { cost: () => 7 }))).toEqual(["a", "b", "c"]);
    expect(names(orderTargets(r, Math.random, { cost: () => null }))).toEqual(["a", "b", "c"]);
  });
});

describe("fastest", () => {
  const r = route({ strategy: "fastest", explore_ratio: 0.1, targets: three });
  const key = (provider: string) =>
    targetKey({ provider, model: { a: "x", b: "y", c: "z" }[provider] ?? "" });

  it("tries unmeasured targets first, then orders by the moving average", () => {
    let now = 1000;
    const latency = new LatencyTracker(() => now);
    expect(names(orderTargets(r, () => 0.99, { latency }))).toEqual(["a", "b", "c"]);
    latency.record(key("a"), 400);
    expect(names(orderTargets(r, () => 0.99, { latency }))[0]).toBe("b");
    latency.record(key("b"), 50);
    now += 1;
    latency.record(key("c"), 120);
    expect(names(orderTargets(r, () => 0.99, { latency }))).toEqual(["b", "c", "a"]);
  });

  it("moves with the latency: a target that slows down loses its place after a few samples", () => {
    const latency = new LatencyTracker(() => 0);
    latency.record(key("a"), 50);
    latency.record(key("b"), 100);
    latency.record(key("c"), 200);
    latency.record(key("a"), 400);
    latency.record(key("a"), 400);
    expect(latency.estimate(key("a"))).toBeCloseTo(50 + 0.3 * 350 + 0.3 * (400 - 155), 6);
    expect(names(orderTargets(r, () => 0.99, { latency }))[0]).toBe("b");
  });

  it("explores the least recently measured of the others on explore_ratio of requests", () => {
    let now = 0;
    const latency = new LatencyTracker(() => now);
    latency.record(key("c"), 300); // measured first: the stalest
    now = 10;
    latency.record(key("b"), 200);
    now = 20;
    latency.record(key("a"), 10);
    expect(names(orderTargets(r, () => 0.05, { latency }))).toEqual(["c", "a", "b"]);
    expect(names(orderTargets(r, () => 0.1, { latency }))).toEqual(["a", "b", "c"]);
    const never = route({ strategy: "fastest", explore_ratio: 0, targets: three });
    expect(names(orderTargets(never, () => 0, { latency }))).toEqual(["a", "b", "c"]);
  });

  it("shares estimates as `<ms>:<at>`, the freshest sample winning", () => {
    let now = 5_000;
    const here = new LatencyTracker(() => now);
    here.record("t", 80);
    expect(here.takePending()).toEqual([{ target: "t", value: "80:5000" }]);
    expect(here.takePending()).toEqual([]);
    here.applyShared("t", "900:4000"); // older than this isolate's own sample: ignored
    expect(here.estimate("t")).toBe(80);
    here.applyShared("t", "900:6000");
    expect(here.estimate("t")).toBe(900);
    for (const junk of ["", "x:1", "-5:9000", "12", "constructor"]) here.applyShared("t", junk);
    expect(here.estimate("t")).toBe(900);
    here.applyShared("u", "40:1");
    expect(here.estimate("u")).toBe(40);
    now += 1;
    here.record("u", 0);
    expect(here.estimate("u")).toBeCloseTo(28, 6);
  });
});

describe("budget downgrades", () => {
  const config = routes({
    premium: { targets: [three[0]], downgrade_at: 0.8, downgrade_to: "standard" },
    standard: { targets: [three[1], three[0]], downgrade_at: 0.95, downgrade_to: "economy" },
    economy: { targets: [three[2]] },
  });
  const chain = downgradeChain(config, { name: "premium", route: config.premium as RouteConfig });

  it("follows downgrade_to while the spend share reaches each route's threshold", () => {
    expect(chain.map((r) => r.name)).toEqual(["premium", "standard", "economy"]);
    expect(chooseRoute(chain, null)).toMatchObject({ name: "premium", downgradedFrom: null });
    expect(chooseRoute(chain, 0.79)).toMatchObject({ name: "premium", downgradedFrom: null });
    expect(chooseRoute(chain, 0.8)).toMatchObject({ name: "standard", downgradedFrom: "premium" });
    expect(chooseRoute(chain, 0.97)).toMatchObject({ name: "economy", downgradedFrom: "premium" });
    expect(chooseRoute(chain, 5)).toMatchObject({ name: "economy", downgradedFrom: "premium" });
  });

  it("reserves over, and reads the shared state of, every target the chain may reach, once", () => {
    const targets = chainTargets(chain);
    expect(targets.map(targetKey)).toEqual(["a/x", "b/y", "c/z"]);
    const isolate = {
      breakers: new CircuitBreakers(ConfigSchema.parse({}).breaker, () => 0),
      latency: new LatencyTracker(() => 0),
    };
    const shared = sharedStateRead(chain, targets, isolate);
    expect(shared.keys).toEqual(["sluice:breaker:a/x", "sluice:breaker:b/y", "sluice:breaker:c/z"]);
    const timed = routes({ f: { strategy: "fastest", targets: three.slice(0, 2) } });
    const fast = downgradeChain(timed, { name: "f", route: timed.f as RouteConfig });
    const read = sharedStateRead(fast, chainTargets(fast), isolate);
    expect(read.keys).toEqual([
      "sluice:breaker:a/x",
      "sluice:breaker:b/y",
      "sluice:latency:a/x",
      "sluice:latency:b/y",
    ]);
    read.apply(["60000", null, "12:5", null]);
    expect(isolate.breakers.tryAcquire("a/x")).toBe(false);
    expect(isolate.latency.estimate("a/x")).toBe(12);
    expect(isolate.latency.estimate("b/y")).toBeNull();
  });

  it("refuses at config load a downgrade to an unknown route, a cycle, or half a setting", () => {
    const issues = (raw: Record<string, unknown>) => {
      const parsed = ConfigSchema.safeParse({ providers, routes: raw });
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    const t = { targets: [three[0]] };
    expect(issues({ a: { ...t, downgrade_at: 0.8, downgrade_to: "nope" } })).toEqual([
      'routes.a.downgrade_to: unknown route "nope"',
    ]);
    expect(issues({ a: { ...t, downgrade_at: 0.8, downgrade_to: "constructor" } })).toEqual([
      'routes.a.downgrade_to: unknown route "constructor"',
    ]);
    expect(issues({ a: { ...t, downgrade_at: 0.8, downgrade_to: "a" } })).toEqual([
      "routes.a.downgrade_to: downgrades form a cycle: a -> a",
    ]);
    const cycle = issues({
      a: { ...t, downgrade_at: 0.8, downgrade_to: "b" },
      b: { ...t, downgrade_at: 0.9, downgrade_to: "a" },
    });
    expect(cycle).toContain("routes.a.downgrade_to: downgrades form a cycle: a -> b -> a");
    expect(issues({ a: { ...t, downgrade_at: 0.8 } })).toEqual([
      "routes.a: set downgrade_at and downgrade_to together",
    ]);
    expect(issues({ a: { ...t, downgrade_at: 1.5, downgrade_to: "a" } }).length).toBeGreaterThan(0);
    expect(issues({ a: { ...t, strategy: "cheapest" }, b: { ...t, strategy: "fastest" } })).toEqual([]);
  });

  it("measures the spend share at the budget closest to its limit", () => {
    const counter = (micros: number) => ({ budget: { micros } }) as never;
    const reservation = { budgetCounters: [counter(1_000_000), counter(10_000_000), counter(0)] } as never;
    const reply = (spent: number[]) => ({ budgets: spent.map((s) => ({ spent: s, ok: true })) }) as never;
    expect(spendShare(reservation, null)).toBeNull();
    expect(spendShare({ budgetCounters: [] } as never, reply([]))).toBeNull();
    const two = { budgetCounters: [counter(1_000_000), counter(10_000_000)] } as never;
    expect(spendShare(two, reply([500_000, 9_000_000]))).toBeCloseTo(0.9, 9);
    expect(spendShare(reservation, reply([0, 0, 0]))).toBe(1); // a zero budget is spent
  });
});
