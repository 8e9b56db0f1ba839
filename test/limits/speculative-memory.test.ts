import { describe, expect, it } from "vitest";
import { type ScriptRunner, scriptRunner } from "../../src/limits";
import { HeadroomMemory } from "../../src/limits/headroom";
import { RefusalMemory } from "../../src/limits/refusals";
import { admission, freshCaller, gateFor, redis, T0, testConfig } from "./support";

/**
 * The gate's memory of its last answers from the limits store, as a specification: when a
 * request may go upstream before its own answer (ample headroom, recent), and when a key is
 * refused without asking Redis at all (a refusal that holds until a reset).
 */

/** The gate's runner, counting the commands that reach Redis. */
function countingRunner(): { runner: ScriptRunner; sent: () => number } {
  const inner = scriptRunner(redis);
  let count = 0;
  const runner: ScriptRunner = {
    eval: (...args) => {
      count++;
      return inner.eval(...args);
    },
    evalsha: (...args) => {
      count++;
      return inner.evalsha(...args);
    },
    get: (key) => {
      count++;
      return inner.get(key);
    },
  };
  return { runner, sent: () => count };
}

const need = (estimatedTokens: number, worstCaseMicros: number | null = null) => ({
  estimatedTokens,
  worstCaseMicros,
});

describe("headroom: when a request may go upstream before the limits answer", () => {
  it("needs a granted answer showing ten times the request's need, for the key and its tenant", async () => {
    const { gate } = gateFor(testConfig({ rpm: 100, tpm: 10_000 }));
    const caller = freshCaller();
    expect(gate.ample({ caller, ...need(100) })).toBe(false);
    await gate.admit(admission(caller, { estimatedTokens: 100 }));
    // 99 requests and 9,900 tokens left.
    expect(gate.ample({ caller, ...need(100) })).toBe(true);
    expect(gate.ample({ caller, ...need(990) })).toBe(true);
    expect(gate.ample({ caller, ...need(991) })).toBe(false);
    // Another key of the same tenant: the tenant's picture is known, the key's is not.
    expect(gate.ample({ caller: { ...caller, keyId: `${caller.keyId}-other` }, ...need(1) })).toBe(false);
  });

  it("forgets a picture older than max_age_ms, and one the next admissions used up", async () => {
    const { gate, clock } = gateFor(testConfig({ rpm: 15 }, { speculative_admission: { max_age_ms: 1000 } }));
    const caller = freshCaller();
    await gate.admit(admission(caller));
    expect(gate.ample({ caller, ...need(1) })).toBe(true);
    clock.ms += 1000;
    expect(gate.ample({ caller, ...need(1) })).toBe(false);

    // 14 left after the first: each admission sent debits the picture before its answer is in.
    const other = freshCaller();
    await gate.admit(admission(other));
    expect(gate.ample({ caller: other, ...need(1) })).toBe(true);
    const pending = Array.from({ length: 5 }, () => gate.admit(admission(other)));
    expect(gate.ample({ caller: other, ...need(1) })).toBe(false);
    await Promise.all(pending);
  });

  it("counts dollars against every budget, and an unpriced request needs one micro-dollar left", async () => {
    const { gate } = gateFor(testConfig({ budget_usd_day: 1 }));
    const caller = freshCaller();
    await gate.admit(admission(caller, { worstCaseMicros: 50_000 }));
    // $0.95 left: ten times $0.095 fits, ten times $0.096 does not.
    expect(gate.ample({ caller, ...need(1, 95_000) })).toBe(true);
    expect(gate.ample({ caller, ...need(1, 96_000) })).toBe(false);
    expect(gate.ample({ caller, ...need(1, null) })).toBe(true);
  });

  it("is off for a caller whose last admission was refused", async () => {
    const { gate } = gateFor(testConfig({ rpm: 100, tpm: 1000 }));
    const caller = freshCaller();
    await gate.admit(admission(caller, { estimatedTokens: 10 }));
    expect(gate.ample({ caller, ...need(10) })).toBe(true);
    const refused = await gate.admit(admission(caller, { estimatedTokens: 5000 }));
    expect(refused.error?.status).toBe(429);
    expect(gate.ample({ caller, ...need(10) })).toBe(false);
  });

  it("keeps hostile ids apart, as plain Map keys", () => {
    const memory = new HeadroomMemory(10, 1000);
    const key = { kind: "key", id: "__proto__" } as const;
    const tenant = { kind: "tenant", id: "constructor" } as const;
    memory.observe(0, key, tenant, [{ scope: key, dimension: "requests", remaining: 100 }]);
    expect(memory.ample(1, key, tenant, { tokens: 1, micros: 0 })).toBe(true);
    expect(memory.ample(1, { kind: "key", id: "toString" }, tenant, { tokens: 1, micros: 0 })).toBe(false);
  });
});

describe("refusals from memory", () => {
  it("refuses a key whose request rate is spent again without a Redis command, until the window resets", async () => {
    const { runner, sent } = countingRunner();
    const { gate, clock } = gateFor(testConfig({ rpm: 2 }), { runner });
    const caller = freshCaller();
    for (let i = 0; i < 2; i++) expect((await gate.admit(admission(caller))).error).toBeNull();
    const byStore = await gate.admit(admission(caller));
    expect(byStore.error?.code).toBe("rate_limit_exceeded");

    const before = sent();
    const fromMemory = await gate.admit(admission(caller));
    expect(sent()).toBe(before);
    expect(fromMemory.error?.status).toBe(429);
    expect(fromMemory.error?.message).toContain("Rate limit reached for requests per min (RPM)");
    expect(Number(fromMemory.error?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(gate.ample({ caller, ...need(1) })).toBe(false);
    await fromMemory.settle({ tokens: 0, costMicros: 0 });

    // Past the window's end (the gate's clock), the store is asked again.
    clock.ms += 61_000;
    await gate.admit(admission(caller));
    expect(sent()).toBeGreaterThan(before);
  });

  it("remembers a token refusal for requests that need as much, and lets a smaller one ask the store", async () => {
    const { runner, sent } = countingRunner();
    const { gate } = gateFor(testConfig({ tpm: 1000 }), { runner });
    const caller = freshCaller();
    expect((await gate.admit(admission(caller, { estimatedTokens: 600 }))).error).toBeNull();
    const byStore = await gate.admit(admission(caller, { estimatedTokens: 500 }));
    expect(byStore.error?.code).toBe("rate_limit_exceeded");
    // A refusal's give-back goes to Redis in the background: done before counting.
    await byStore.settle({ tokens: 0, costMicros: 0 });

    const before = sent();
    const again = await gate.admit(admission(caller, { estimatedTokens: 450 }));
    expect(again.error?.message).toContain("Used 600, Requested 450");
    expect(sent()).toBe(before);
    const smaller = await gate.admit(admission(caller, { estimatedTokens: 300 }));
    expect(smaller.error).toBeNull();
    expect(sent()).toBeGreaterThan(before);
  });

  it("forgets a token refusal once a reservation of the key settles in this isolate (room given back)", async () => {
    const { gate } = gateFor(testConfig({ tpm: 1000 }));
    const caller = freshCaller();
    const first = await gate.admit(admission(caller, { estimatedTokens: 600 }));
    expect((await gate.admit(admission(caller, { estimatedTokens: 500 }))).error).not.toBeNull();
    await first.settle({ tokens: 100, costMicros: 0 });
    expect((await gate.admit(admission(caller, { estimatedTokens: 500 }))).error).toBeNull();
  });

  it("remembers a budget with nothing left, not one merely too small for this worst case", async () => {
    const { runner, sent } = countingRunner();
    const { gate } = gateFor(testConfig({ budget_usd_day: 1 }), { runner });
    const small = freshCaller();
    await gate.admit(admission(small, { worstCaseMicros: 900_000 }));
    expect((await gate.admit(admission(small, { worstCaseMicros: 200_000 }))).error?.code).toBe(
      "insufficient_quota",
    );
    let before = sent();
    await gate.admit(admission(small, { worstCaseMicros: 200_000 }));
    expect(sent()).toBeGreaterThan(before);

    const spent = freshCaller();
    await gate.admit(admission(spent, { worstCaseMicros: 1_000_000 }));
    const byStore = await gate.admit(admission(spent, { worstCaseMicros: 1 }));
    await byStore.settle({ tokens: 0, costMicros: 0 });
    expect(byStore.error?.code).toBe("insufficient_quota");
    before = sent();
    const fromMemory = await gate.admit(admission(spent, { worstCaseMicros: 1 }));
    expect(fromMemory.error?.code).toBe("insufficient_quota");
    expect(fromMemory.error?.message).toContain("daily budget");
    expect(sent()).toBe(before);
  });

  it("asks the store every time with remember_refusals off", async () => {
    const { runner, sent } = countingRunner();
    const config = testConfig({ rpm: 1 }, { speculative_admission: { remember_refusals: false } });
    const { gate } = gateFor(config, { runner });
    const caller = freshCaller();
    await gate.admit(admission(caller));
    await gate.admit(admission(caller));
    const before = sent();
    expect((await gate.admit(admission(caller))).error?.code).toBe("rate_limit_exceeded");
    expect(sent()).toBeGreaterThan(before);
  });

  it("is bounded, and hostile ids are just keys", () => {
    const memory = new RefusalMemory();
    const refusal = (id: string) => ({
      scope: { kind: "key" as const, id },
      until: T0 + 30_000,
      freedBySettlement: false,
      refuses: () => true,
      error: () => new Error(id) as never,
    });
    memory.remember(T0, [refusal("__proto__"), refusal("constructor")], {});
    expect(memory.check(T0, [{ kind: "key", id: "__proto__" }], { tokens: 1, micros: 0 })).toBeTruthy();
    expect(memory.check(T0, [{ kind: "key", id: "toString" }], { tokens: 1, micros: 0 })).toBeNull();
    for (let i = 0; i < 10_000; i++) memory.remember(T0, [refusal(`k${i}`)], {});
    // The oldest entries made way for the newest.
    expect(memory.check(T0, [{ kind: "key", id: "__proto__" }], { tokens: 1, micros: 0 })).toBeNull();
    expect(memory.check(T0, [{ kind: "key", id: "k9999" }], { tokens: 1, micros: 0 })).toBeTruthy();
    // Never longer than a minute, whatever the reset.
    memory.remember(T0, [{ ...refusal("long"), until: T0 + 86_400_000 }], {});
    expect(memory.check(T0 + 60_000, [{ kind: "key", id: "long" }], { tokens: 1, micros: 0 })).toBeNull();
  });
});
