import { describe, expect, it } from "vitest";
import { usageRows } from "../admin/support";
import { gateway, mockProviders } from "../support/gateway";
import { chatWith, faultyFetch, freshKey, mockCounts, twoTargets, uniqueModel } from "./support";

describe("strategy: cheapest", () => {
  it("serves from the lowest effective price, and moves on while that target's breaker is open", async () => {
    const dear = uniqueModel("dear");
    const cheap = uniqueModel("cheap");
    const faults = new Map<string, string>();
    // mock-b lists at 5x the price, but as a relay at 10% of list it is the cheaper one.
    const { route, config } = twoTargets("cheapest", [dear, 10, 40], [cheap, 50, 200], { retries: 0 });
    Object.assign(config, {
      providers: { ...mockProviders, "mock-b": { ...mockProviders["mock-b"], cost_multiplier: 0.1 } },
      breaker: { min_requests: 2, failure_ratio: 0.5, window_seconds: 600, cooldown_seconds: 600 },
    });
    const gw = gateway(config, { fetcher: faultyFetch(faults) });
    const { tenant, token } = await freshKey();

    for (let i = 0; i < 3; i++) {
      const res = await gw.fetch("/v1/chat/completions", chatWith(token, route));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-sluice-provider")).toBe("mock-b");
      expect(res.headers.get("x-sluice-model")).toBe(cheap);
    }
    expect(await mockCounts(cheap, dear)).toEqual([3, 0]);
    const rows = await usageRows(tenant);
    expect(rows.map((r) => [r.provider, r.upstream_model, r.requested_model])).toEqual(
      Array(3).fill(["mock-b", cheap, route]),
    );

    // The cheap target fails: each request falls back to the dear one, until its breaker opens
    // (3 failures of 6 outcomes), after which it is skipped without a call.
    faults.set(cheap, "status-503");
    for (let i = 0; i < 3; i++) {
      const res = await gw.fetch("/v1/chat/completions", chatWith(token, route));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-sluice-model")).toBe(dear);
      expect(res.headers.get("x-sluice-attempts")).toBe("2");
    }
    expect(await mockCounts(cheap, dear)).toEqual([6, 3]);
    const skipped = await gw.fetch("/v1/chat/completions", chatWith(token, route));
    expect(skipped.headers.get("x-sluice-model")).toBe(dear);
    expect(skipped.headers.get("x-sluice-attempts")).toBe("1");
    expect(await mockCounts(cheap, dear)).toEqual([6, 4]);

    // Another isolate learns of the opening from Redis, in its admission's round trip.
    const other = gateway(config);
    const res = await other.fetch("/v1/chat/completions", chatWith(token, route));
    expect(res.headers.get("x-sluice-model")).toBe(dear);
    expect(await mockCounts(cheap, dear)).toEqual([6, 5]);
  });

  it("orders by this request's estimate: prompt plus expected output, as reserved", async () => {
    // Cheap input, dear output against the opposite: which is cheaper depends on max_tokens.
    const wordy = uniqueModel("wordy");
    const terse = uniqueModel("terse");
    const { route, config } = twoTargets("cheapest", [wordy, 1, 100], [terse, 100, 1]);
    const gw = gateway(config);
    const { token } = await freshKey();
    const ask = (maxTokens: number) => ({
      ...chatWith(token, route),
      body: JSON.stringify({
        model: route,
        messages: [{ role: "user", content: "a b c d e f g h i j k l m n o p q r s t" }],
        max_tokens: maxTokens,
      }),
    });
    expect((await gw.fetch("/v1/chat/completions", ask(1))).headers.get("x-sluice-model")).toBe(wordy);
    expect((await gw.fetch("/v1/chat/completions", ask(4000))).headers.get("x-sluice-model")).toBe(terse);
  });
});
