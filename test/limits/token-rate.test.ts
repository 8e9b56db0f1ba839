import { describe, expect, it } from "vitest";
import { admission, freshCaller, gateFor, testConfig } from "./support";

describe("token rate (tpm reservation)", () => {
  it("refuses the request whose reservation would pass the limit, and settle gives back the rest", async () => {
    const { gate } = gateFor(testConfig({ tpm: 1000 }));
    const caller = freshCaller();

    const first = await gate.admit(admission(caller, { estimatedTokens: 600 }));
    expect(first.error).toBeNull();
    expect(first.headers["x-ratelimit-limit-tokens"]).toBe("1000");
    expect(first.headers["x-ratelimit-remaining-tokens"]).toBe("400");

    const second = await gate.admit(admission(caller, { estimatedTokens: 500 }));
    expect(second.error?.status).toBe(429);
    expect(second.error?.code).toBe("rate_limit_exceeded");
    expect(second.error?.message).toContain("tokens per min (TPM)");
    expect(second.error?.message).toContain("Used 600, Requested 500");
    expect(Number(second.error?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(second.headers["x-ratelimit-remaining-tokens"]).toBe("400");
    await second.settle({ tokens: 0, costMicros: 0 });

    // The first request really used 100 tokens: 500 of its reservation come back.
    await first.settle({ tokens: 100, costMicros: 0 });
    const third = await gate.admit(admission(caller, { estimatedTokens: 500 }));
    expect(third.error).toBeNull();
    expect(third.headers["x-ratelimit-remaining-tokens"]).toBe("400");
  });

  it("records usage beyond the reservation at settlement", async () => {
    const { gate } = gateFor(testConfig({ tpm: 1000 }));
    const caller = freshCaller();
    const first = await gate.admit(admission(caller, { estimatedTokens: 100 }));
    await first.settle({ tokens: 700, costMicros: 0 });
    const second = await gate.admit(admission(caller, { estimatedTokens: 400 }));
    expect(second.error?.message).toContain("Used 700, Requested 400");
  });

  it("settles only once, however often settle is called", async () => {
    const { gate } = gateFor(testConfig({ tpm: 1000 }));
    const caller = freshCaller();
    const first = await gate.admit(admission(caller, { estimatedTokens: 600 }));
    await first.settle({ tokens: 0, costMicros: 0 });
    await first.settle({ tokens: 0, costMicros: 0 });
    expect((await gate.admit(admission(caller, { estimatedTokens: 1000 }))).error).toBeNull();
    expect((await gate.admit(admission(caller, { estimatedTokens: 1 }))).error?.code).toBe(
      "rate_limit_exceeded",
    );
  });

  it("says a request larger than the whole limit can never pass, and tells SDKs not to retry", async () => {
    const { gate } = gateFor(testConfig({ tpm: 1000 }));
    const result = await gate.admit(admission(freshCaller(), { estimatedTokens: 1500 }));
    expect(result.error?.status).toBe(429);
    expect(result.error?.message).toContain("Request too large for tokens per min (TPM)");
    expect(result.error?.headers["x-should-retry"]).toBe("false");
  });

  it("frees the window as time passes", async () => {
    const { gate, clock } = gateFor(testConfig({ tpm: 1000 }));
    const caller = freshCaller();
    expect((await gate.admit(admission(caller, { estimatedTokens: 1000 }))).error).toBeNull();
    expect((await gate.admit(admission(caller, { estimatedTokens: 1 }))).error).not.toBeNull();
    clock.ms += 120_000;
    expect((await gate.admit(admission(caller, { estimatedTokens: 1000 }))).error).toBeNull();
  });

  it("refuses 5 concurrent 300-token requests down to the 3 that fit in tpm 1000", async () => {
    const { gate } = gateFor(testConfig({ tpm: 1000 }));
    const caller = freshCaller();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => gate.admit(admission(caller, { estimatedTokens: 300 }))),
    );
    expect(results.filter((r) => r.error === null)).toHaveLength(3);
  });
});
