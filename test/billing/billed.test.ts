import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createBilling } from "../../src/billing/billed";
import { ConfigSchema } from "../../src/config";
import { costOf, createPriceBook, scaleMicros, toMicrosCeil } from "../../src/metering/prices";
import type { TokenUsage } from "../../src/providers/types";

const usage = (prompt: number, completion: number, cached = 0): TokenUsage => ({
  promptTokens: prompt,
  completionTokens: completion,
  cachedReadTokens: cached,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});

const config = (billing: Record<string, unknown>) =>
  ConfigSchema.parse({
    plans: { free: {}, pro: {} },
    default_plan: "free",
    billing,
  });

const worstInput = (price: (provider: string, model: string, p: number, o: number) => number | null) => ({
  endpoint: "chat" as const,
  body: { n: 2 },
  promptTokens: 100,
  maxOutputTokens: 50,
  targets: [
    { provider: "a", model: "m1" },
    { provider: "b", model: "m2" },
  ],
  price,
});

describe("billed prices", () => {
  it("bills cost × (1 + markup) exactly, rounded up to the picodollar", () => {
    const billing = createBilling(config({ plans: { pro: { markup: 0.2 } } }));
    const pro = { tenant: "acme", plan: "pro" };
    expect(billing.billed(pro, "gpt-4o-mini", usage(10, 10), 1_000_000n)).toBe(1_200_000n);
    // 1,000,001 × 1.2 = 1,200,001.2 → 1,200,002: never less than the markup asks.
    expect(billing.billed(pro, "gpt-4o-mini", usage(10, 10), 1_000_001n)).toBe(1_200_002n);
    // Another plan (and an unknown one, which bills as the default) is billed at cost.
    expect(billing.billed({ tenant: "acme", plan: "free" }, "m", usage(1, 1), 777n)).toBe(777n);
    expect(billing.billed({ tenant: "acme", plan: "toString" }, "m", usage(1, 1), 777n)).toBe(777n);
  });

  it("prices the requested model explicitly where a glob matches; a tenant's terms replace its plan's", () => {
    const billing = createBilling(
      config({
        plans: {
          free: { markup: 0.5, prices: [{ model: "gpt-4o*", input: 1, output: 2, cached_input: 0.5 }] },
        },
        tenants: { vip: { markup: 0.1 } },
      }),
    );
    const free = { tenant: "acme", plan: null };
    // 1,000 prompt (200 of them cached) + 500 output at $1 / $0.5 / $2 per 1M tokens, whatever the cost was.
    expect(billing.billed(free, "gpt-4o-mini", usage(1000, 500, 200), 5n)).toBe(
      800n * 1_000_000n + 200n * 500_000n + 500n * 2_000_000n,
    );
    // No glob match: the markup.
    expect(billing.billed(free, "claude-x", usage(1, 1), 1000n)).toBe(1500n);
    // The tenant's own terms win over its plan's, prices included.
    expect(billing.billed({ tenant: "vip", plan: null }, "gpt-4o-mini", usage(1, 1), 1000n)).toBe(1100n);
  });

  it("keeps a config's hostile tenant names to themselves", () => {
    const parsed = ConfigSchema.parse(
      JSON.parse('{"billing":{"tenants":{"__proto__":{"markup":1},"constructor":{"markup":2}}}}'),
    );
    const billing = createBilling(parsed);
    expect(billing.billed({ tenant: "acme", plan: null }, "m", usage(1, 1), 10n)).toBe(10n);
    expect(billing.billed({ tenant: "constructor", plan: null }, "m", usage(1, 1), 10n)).toBe(30n);
  });

  it("never finds terms for hostile tenant or plan names", () => {
    const billing = createBilling(config({ plans: { free: { markup: 1 } } }));
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(billing.billed({ tenant: name, plan: name }, name, usage(1, 1), 10n)).toBe(20n);
    }
  });

  it("reserves the worst case at the billed price: marked up per target, or the explicit price", () => {
    const costPrice = (provider: string) => (provider === "a" ? 1000 : 3001);
    const cost = worstInput(costPrice);
    const marked = createBilling(config({ plans: { free: { markup: 0.2 } } }));
    const payer = { tenant: "t", plan: null };
    expect(marked.worstCaseMicros(payer, "m", cost, 3001)).toBe(scaleMicros(3001, 1.2));
    expect(scaleMicros(3001, 1.2)).toBe(3602);

    const explicit = createBilling(
      config({ plans: { free: { prices: [{ model: "m*", input: 1000, output: 4000 }] } } }),
    );
    const book = createPriceBook([{ model: "x", input: 1000, output: 4000 }]);
    const price = book.lookup(null, "x");
    if (!price) throw new Error("no price");
    // 100 prompt + 2 choices × 50 output at the billed price.
    const expected = toMicrosCeil(costOf(price, usage(100, 100)).picoUsd);
    expect(explicit.worstCaseMicros(payer, "model-1", cost, 1)).toBe(expected);

    const atCost = createBilling(config({}));
    expect(atCost.worstCaseMicros(payer, "m", cost, 3001)).toBe(3001);
  });

  it("keeps the billed worst case at or above what any real request of that size bills", () => {
    const billing = createBilling(config({ plans: { free: { markup: 0.3333 } } }));
    const book = createPriceBook([{ model: "x", input: 0.15, cached_input: 0.075, output: 0.6 }]);
    const price = book.lookup(null, "x");
    if (!price) throw new Error("no price");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.integer({ min: 0, max: 100 }),
        (prompt, output, cachedShare) => {
          const used = usage(prompt, output, Math.floor((prompt * cachedShare) / 100));
          const billed = billing.billed({ tenant: "t", plan: null }, "x", used, costOf(price, used).picoUsd);
          const worst = billing.worstCaseMicros(
            { tenant: "t", plan: null },
            "x",
            {
              ...worstInput(() => null),
              body: {},
              promptTokens: prompt,
              maxOutputTokens: output,
              targets: [{ provider: "p", model: "x" }],
              price: (_p, _m, pt, ot) => toMicrosCeil(costOf(price, usage(pt, ot)).picoUsd),
            },
            null,
          );
          expect(worst).not.toBeNull();
          expect(toMicrosCeil(billed)).toBeLessThanOrEqual(worst ?? 0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
