import { describe, expect, it } from "vitest";
import type { RouteConfig } from "../../src/config";
import { ConfigSchema } from "../../src/config/schema";
import { orderTargets } from "../../src/routing";

function route(raw: unknown): RouteConfig {
  const config = ConfigSchema.parse({
    providers: { a: { preset: "openai" }, b: { preset: "deepseek" }, c: { preset: "holysheep" } },
    routes: { m: raw },
  });
  return config.routes.m as RouteConfig;
}

describe("orderTargets", () => {
  it("keeps the configured order for fallback", () => {
    const r = route({
      targets: [
        { provider: "a", model: "x" },
        { provider: "b", model: "y" },
      ],
    });
    for (let i = 0; i < 20; i++) expect(orderTargets(r).map((t) => t.provider)).toEqual(["a", "b"]);
  });

  it("lands within 5% of the weights over 1,000 picks, the rest following as fallbacks", () => {
    const r = route({
      strategy: "loadbalance",
      targets: [
        { provider: "a", model: "x", weight: 6 },
        { provider: "b", model: "y", weight: 3 },
        { provider: "c", model: "z", weight: 1 },
      ],
    });
    // A seeded generator: the check is about the weighting, not about luck with Math.random.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 1000; i++) {
      const order = orderTargets(r, random);
      expect(new Set(order.map((t) => t.provider)).size).toBe(3);
      const first = order[0]?.provider as string;
      counts[first] = (counts[first] ?? 0) + 1;
    }
    expect(Math.abs((counts.a ?? 0) / 1000 - 0.6)).toBeLessThan(0.05);
    expect(Math.abs((counts.b ?? 0) / 1000 - 0.3)).toBeLessThan(0.05);
    expect(Math.abs((counts.c ?? 0) / 1000 - 0.1)).toBeLessThan(0.05);
  });

  it("picks deterministically from the random roll", () => {
    const r = route({
      strategy: "loadbalance",
      targets: [
        { provider: "a", model: "x", weight: 1 },
        { provider: "b", model: "y", weight: 1 },
      ],
    });
    expect(orderTargets(r, () => 0.2).map((t) => t.provider)).toEqual(["a", "b"]);
    expect(orderTargets(r, () => 0.7).map((t) => t.provider)).toEqual(["b", "a"]);
  });
});
