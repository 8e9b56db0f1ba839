import { describe, expect, it } from "vitest";
import { CircuitBreakers } from "../../src/routing";

const config = { window_seconds: 30, min_requests: 4, failure_ratio: 0.5, cooldown_seconds: 10 };

describe("CircuitBreakers", () => {
  it("opens once the error rate over the window passes the ratio", () => {
    let now = 1_000_000;
    const breakers = new CircuitBreakers(config, () => now);
    expect(breakers.record("t", true)).toBeNull();
    expect(breakers.record("t", false)).toBeNull();
    expect(breakers.record("t", false)).toBeNull(); // 3 requests: below min_requests
    const opened = breakers.record("t", false);
    expect(opened).toEqual({ opened: true, until: now + 10_000 });
    expect(breakers.tryAcquire("t")).toBe(false);
    now += 9_999;
    expect(breakers.tryAcquire("t")).toBe(false);
  });

  it("lets exactly one probe through after the cooldown, and a good probe closes it", () => {
    let now = 0;
    const breakers = new CircuitBreakers(config, () => now);
    for (let i = 0; i < 4; i++) breakers.record("t", false);
    now += 10_000;
    expect(breakers.tryAcquire("t")).toBe(true);
    expect(breakers.tryAcquire("t")).toBe(false); // the probe is in flight
    expect(breakers.record("t", true)).toEqual({ closed: true });
    expect(breakers.tryAcquire("t")).toBe(true);
    expect(breakers.tryAcquire("t")).toBe(true);
  });

  it("reopens after a failed probe", () => {
    let now = 0;
    const breakers = new CircuitBreakers(config, () => now);
    for (let i = 0; i < 4; i++) breakers.record("t", false);
    now += 10_000;
    expect(breakers.tryAcquire("t")).toBe(true);
    expect(breakers.record("t", false)).toEqual({ opened: true, until: now + 10_000 });
    expect(breakers.tryAcquire("t")).toBe(false);
  });

  it("forgets failures that left the window", () => {
    let now = 0;
    const breakers = new CircuitBreakers(config, () => now);
    for (let i = 0; i < 3; i++) breakers.record("t", false);
    now += 31_000;
    expect(breakers.record("t", false)).toBeNull();
    expect(breakers.tryAcquire("t")).toBe(true);
  });

  it("adopts an opening shared by another instance", () => {
    const now = 5_000;
    const breakers = new CircuitBreakers(config, () => now);
    breakers.applyShared("t", String(now + 3_000));
    expect(breakers.tryAcquire("t")).toBe(false);
    breakers.applyShared("u", String(now - 1));
    expect(breakers.tryAcquire("u")).toBe(true);
  });
});
