import { describe, expect, it } from "vitest";
import type { TargetConfig } from "../../src/config";
import { type AttemptOutcome, type FailureKind, runWithFallback } from "../../src/routing";

const target = (provider: string): TargetConfig => ({ provider, model: "m", weight: 1 }) as TargetConfig;
const a = target("a");
const b = target("b");

/** Scripted outcomes per provider, in order; each call takes the next one. */
function scripted(script: Record<string, AttemptOutcome<string, string>[]>) {
  const calls: string[] = [];
  const attempt = async (t: TargetConfig) => {
    calls.push(t.provider);
    const next = script[t.provider]?.shift();
    if (!next) throw new Error(`no outcome left for ${t.provider}`);
    return next;
  };
  return { calls, attempt };
}

const fail = (kind: FailureKind, failure: string): AttemptOutcome<string, string> => ({
  ok: false,
  kind,
  retryAfterMs: null,
  failure,
});

const options = (overrides: { available?: (t: TargetConfig) => boolean } = {}) => ({
  retries: 1,
  isAvailable: overrides.available ?? (() => true),
  onOutcome: () => {},
  random: () => 0,
  sleep: async () => {},
});

describe("runWithFallback", () => {
  it("names the target that answered, with every attempt counted", async () => {
    const { calls, attempt } = scripted({
      a: [fail("retryable", "a down"), fail("retryable", "a down")],
      b: [{ ok: true, value: "from b" }],
    });
    const result = await runWithFallback([a, b], attempt, options());
    expect(result).toEqual({ ok: true, value: "from b", target: b, attempts: 3 });
    expect(calls).toEqual(["a", "a", "b"]);
  });

  it("stops at the caller's own failure: no retry, no fallback", async () => {
    const { calls, attempt } = scripted({ a: [fail("caller", "bad request")], b: [] });
    const result = await runWithFallback([a, b], attempt, options());
    expect(result).toEqual({ ok: false, failure: "bad request", target: a, attempts: 1 });
    expect(calls).toEqual(["a"]);
  });

  it("reports a refused feature only when no target got further", async () => {
    const servedFirst = scripted({
      a: [fail("provider_auth", "a rejected its key")],
      b: [fail("unsupported", "b lacks it")],
    });
    expect(await runWithFallback([a, b], servedFirst.attempt, options())).toEqual({
      ok: false,
      failure: "a rejected its key",
      target: b,
      attempts: 2,
    });
    const allRefused = scripted({
      a: [fail("unsupported", "a lacks it")],
      b: [fail("unsupported", "b lacks it")],
    });
    expect(await runWithFallback([a, b], allRefused.attempt, options())).toMatchObject({
      ok: false,
      failure: "b lacks it",
    });
  });

  it("has no target and no failure when every breaker is open", async () => {
    const { attempt } = scripted({});
    expect(await runWithFallback([a, b], attempt, options({ available: () => false }))).toEqual({
      ok: false,
      failure: null,
      target: null,
      attempts: 0,
    });
  });
});
