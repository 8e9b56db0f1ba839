import { describe, expect, it } from "vitest";
import { createMeter, createUsageWriter, formatUsd } from "../../src/metering";
import type { TokenUsage } from "../../src/providers/types";
import { rowsOf, testDb, uniqueTenant } from "./support";

const db = testDb();

function setup(clock = { ms: Date.UTC(2026, 0, 1) }) {
  const meter = createMeter({
    prices: [{ provider: "relay", model: "gpt-4.1", input: 1.5, output: 6 }],
    writer: createUsageWriter({ db, redis: null, log: () => {} }),
    now: () => clock.ms,
  });
  return { meter, clock };
}

const begin = (meter: ReturnType<typeof setup>["meter"], tenant: string, startedAt: number) =>
  meter.begin({
    requestId: crypto.randomUUID(),
    clientRequestId: "client-7",
    caller: { tenant, keyId: "key-1" },
    endpoint: "chat",
    requestedModel: "smart",
    stream: true,
    tags: { team: "search" },
    startedAt,
  });

describe("meter", () => {
  it("the cost the caller sees equals the cost in the row, priced by the target's provider row", async () => {
    const tenant = uniqueTenant("meter");
    const { meter, clock } = setup();
    const started = clock.ms;
    const request = begin(meter, tenant, started);
    request.setTarget("relay", "gpt-4.1", 2);
    const usage: TokenUsage = {
      promptTokens: 1_000,
      completionTokens: 100,
      cachedReadTokens: 200,
      cacheWriteTokens: 0,
      reasoningTokens: 10,
    };
    clock.ms += 1_234;
    const settled = request.finish({
      status: 200,
      errorCode: null,
      usage,
      usageSource: "provider",
      ttfbMs: 300,
    });
    // 800 x 1,500,000 + 200 x 1,500,000 (no cached price: input) + 100 x 6,000,000 picodollars
    expect(meter.costUsd("relay", "gpt-4.1", usage)).toBe(0.0021);
    expect(settled).toMatchObject({ tokens: 1_100, costMicros: 2_100 });
    await settled.write();
    await settled.write();

    const rows = await rowsOf(db, tenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      cost_text: "0.002100000000",
      unpriced: false,
      provider: "relay",
      upstream_model: "gpt-4.1",
      requested_model: "smart",
      attempts: 2,
      latency_ms: 1_234,
      ttfb_ms: 300,
      stream: true,
      tags: { team: "search" },
      client_request_id: "client-7",
    });
    expect(formatUsd(2_100_000_000n)).toBe("0.0021");
  });

  it("a request refused before any target costs exactly $0 and is still recorded", async () => {
    const tenant = uniqueTenant("refused");
    const { meter, clock } = setup();
    const settled = begin(meter, tenant, clock.ms).finish({ status: 429, errorCode: "rate_limit_exceeded" });
    expect(settled).toMatchObject({ tokens: 0, costMicros: 0 });
    await settled.write();
    expect(await rowsOf(db, tenant)).toMatchObject([
      {
        status: 429,
        error_code: "rate_limit_exceeded",
        cost_text: "0.000000000000",
        unpriced: false,
        provider: null,
      },
    ]);
  });

  it("an unpriced model: null cost for the caller, a flagged row, no budget charge", async () => {
    const tenant = uniqueTenant("nocost");
    const { meter, clock } = setup();
    const request = begin(meter, tenant, clock.ms);
    request.setTarget("local", "mystery-1", 1);
    const usage: TokenUsage = {
      promptTokens: 10,
      completionTokens: 5,
      cachedReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    };
    expect(meter.costUsd("local", "mystery-1", usage)).toBeNull();
    expect(meter.worstCaseMicros("local", "mystery-1", 10, 10)).toBeNull();
    const settled = request.finish({ status: 200, errorCode: null, usage });
    expect(settled.costMicros).toBe(0);
    await settled.write();
    expect(await rowsOf(db, tenant)).toMatchObject([{ cost_usd: null, unpriced: true }]);
  });
});
