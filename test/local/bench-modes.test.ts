/**
 * The bench's latency mode, peers and soak: the pure parts (what is sent, what is judged), so a
 * change to them cannot silently turn the soak's checks or the latency rows into something else.
 */
import { describe, expect, it } from "vitest";
import { DISTANT_ROUTE, latencyCall, NEAR_LIMIT_MAX_TOKENS, withLatencyConfig } from "../../bench/latency";
import { portkeyCall } from "../../bench/peers";
import { jsonCpuRatios, LIMITS_FLOOR_LABEL } from "../../bench/report";
import { chatCalls } from "../../bench/scenarios";
import { kindAt, soakKinds, withSoakConfig } from "../../bench/soak-mix";
import { renderSoak, type SoakMinute, type SoakResult } from "../../bench/soak-report";

const MOCK = "http://127.0.0.1:9";

describe("soak mix", () => {
  it("sends every kind at its weight in each run of 100 requests", () => {
    const kinds = soakKinds("sk-test");
    expect(kinds.reduce((a, k) => a + k.weight, 0)).toBe(100);
    for (const offset of [0, 100, 12_300]) {
      const seen = new Map<string, number>();
      for (let i = offset; i < offset + 100; i++) {
        const name = kindAt(kinds, i).name;
        seen.set(name, (seen.get(name) ?? 0) + 1);
      }
      for (const kind of kinds) expect(seen.get(kind.name)).toBe(kind.weight);
    }
  });

  it("gives every faulty route a healthy fallback, so no fault may reach the caller as a 5xx", () => {
    const config = withSoakConfig({ providers: {}, routes: {} }, MOCK) as {
      routes: Record<string, { targets: { provider: string; model: string }[] }>;
    };
    const faulty = soakKinds("k")
      .map((k) => JSON.parse(k.call.body ?? "{}").model as string)
      .filter((model) => model.startsWith("soak-"));
    expect(faulty.length).toBe(4);
    for (const model of faulty) {
      const targets = config.routes[model]?.targets ?? [];
      expect(targets[0]?.model).toContain("+fault=");
      expect(targets[1]).toEqual({ provider: "mock-openai", model: "gpt-4o-mini" });
    }
  });
});

describe("soak checks", () => {
  const minute = (fiveXx: { atMs: number; key: string }[], peakRssMb = 100): SoakMinute => ({
    sent: 10,
    outcomes: new Map([["200", 10]]),
    latencies: [1, 2, 3],
    peakRssMb,
    fiveXx,
  });
  const result = (over: Partial<SoakResult>): SoakResult => ({
    date: "d",
    machine: "m",
    loadAverageBefore: 0,
    options: { minutes: 2, rate: 10, pauseSeconds: 5 },
    v8Flags: "",
    minutes: [minute([]), minute([])],
    sent: 20,
    unanswered: 0,
    rows: 20,
    pause: [60_000, 65_000],
    kinds: [],
    ...over,
  });

  it("passes limits_unavailable during the pause only", () => {
    const inPause = minute([{ atMs: 62_000, key: "503 limits_unavailable" }]);
    expect(renderSoak(result({ minutes: [minute([]), inPause] })).ok).toBe(true);
    const early = minute([{ atMs: 10_000, key: "503 limits_unavailable" }]);
    expect(renderSoak(result({ minutes: [early, minute([])] })).ok).toBe(false);
    const other = minute([{ atMs: 62_000, key: "502 upstream_error" }]);
    const { ok, markdown } = renderSoak(result({ minutes: [minute([]), other] }));
    expect(ok).toBe(false);
    expect(markdown).toContain("1 other: 502 upstream_error");
  });

  it("fails on missing usage rows, growing memory and unanswered requests", () => {
    expect(renderSoak(result({ rows: 19 })).ok).toBe(false);
    expect(renderSoak(result({ minutes: [minute([], 100), minute([], 100), minute([], 121)] })).ok).toBe(
      false,
    );
    expect(renderSoak(result({ minutes: [minute([], 100), minute([], 100), minute([], 120)] })).ok).toBe(
      true,
    );
    expect(renderSoak(result({ unanswered: 1 })).ok).toBe(false);
  });
});

describe("latency mode and peers", () => {
  const direct = chatCalls("sk-upstream", false);

  it("sends the gateway through the distant route and the others with the mock's header", () => {
    const gateway = latencyCall(chatCalls("sk-key", true).stream, { viaGateway: true, upstreamTtfbMs: 300 });
    expect(JSON.parse(gateway.body ?? "{}").model).toBe(DISTANT_ROUTE);
    expect(gateway.headers["x-mock-ttfb-ms"]).toBeUndefined();
    const outside = latencyCall(direct.stream, { viaGateway: false, upstreamTtfbMs: 300 });
    expect(outside.headers["x-mock-ttfb-ms"]).toBe("300");
    const near = latencyCall(direct.stream, {
      viaGateway: false,
      upstreamTtfbMs: 1,
      maxTokens: NEAR_LIMIT_MAX_TOKENS,
    });
    expect(JSON.parse(near.body ?? "{}").max_tokens).toBe(NEAR_LIMIT_MAX_TOKENS);
  });

  it("keeps the near-limit key under ten reservations of headroom, with room for the phase's requests", () => {
    const config = withLatencyConfig(
      { providers: {}, routes: {}, plans: { bench: { rpm: 5 } } },
      MOCK,
      300,
    ) as {
      plans: Record<string, { tpm: number; rpm: number }>;
      providers: Record<string, { headers: Record<string, string> }>;
    };
    const plan = config.plans["bench-near-limit"];
    expect(plan?.rpm).toBe(5);
    expect(plan?.tpm).toBeLessThan(10 * NEAR_LIMIT_MAX_TOKENS);
    expect(plan?.tpm).toBeGreaterThan(4 * (NEAR_LIMIT_MAX_TOKENS + 1_000));
    expect(config.providers["mock-openai-distant"]?.headers["x-mock-ttfb-ms"]).toBe("300");
  });

  it("routes Portkey to the mock by its headers and forwards the mock's options", () => {
    const call = portkeyCall(direct.longStream, MOCK);
    expect(call.headers["x-portkey-provider"]).toBe("openai");
    expect(call.headers["x-portkey-custom-host"]).toBe(`${MOCK}/v1`);
    expect(call.headers["x-portkey-forward-headers"]).toBe("x-mock-words");
    expect(portkeyCall(direct.json, MOCK).headers["x-portkey-forward-headers"]).toBeUndefined();
  });
});

describe("JSON CPU ratios", () => {
  const row = (label: string, kind: "direct" | "passthrough" | "gateway" | "peer", cpuUsJson: number) => ({
    label,
    kind,
    cpuUsJson,
  });

  it("judges every gateway against the bare passthrough, and gives its ratio over the limits floor", () => {
    const text = jsonCpuRatios([
      row("mock upstream, direct", "direct", 50),
      row("passthrough worker", "passthrough", 100),
      row(LIMITS_FLOOR_LABEL, "passthrough", 200),
      row("sluice gateway", "gateway", 600),
      row("sluice gateway @ main", "gateway", 240),
      row("Portkey", "peer", 1_000),
    ]);
    expect(text?.split("\n")).toEqual([
      `- sluice gateway CPU per JSON request within 2.5x the passthrough's: NO (6.00x; 3.00x the ${LIMITS_FLOOR_LABEL}'s, itself 2.00x the passthrough's)`,
      `- sluice gateway @ main CPU per JSON request within 2.5x the passthrough's: yes (2.40x; 1.20x the ${LIMITS_FLOOR_LABEL}'s, itself 2.00x the passthrough's)`,
    ]);
  });

  it("never takes the limits floor for the bare passthrough, whatever the order", () => {
    const text = jsonCpuRatios([
      row(LIMITS_FLOOR_LABEL, "passthrough", 200),
      row("sluice gateway", "gateway", 400),
    ]);
    expect(text).toBeNull();
    const withBare = jsonCpuRatios([
      row(LIMITS_FLOOR_LABEL, "passthrough", 200),
      row("passthrough worker", "passthrough", 100),
      row("sluice gateway", "gateway", 400),
    ]);
    expect(withBare).toContain("(4.00x; 2.00x");
  });
});
