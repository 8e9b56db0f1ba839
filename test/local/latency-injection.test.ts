/**
 * The bench's latency mode (bench/latency.ts): the mock delays its first byte (`ttfb-ms`) and the
 * Upstash bridge delays each command request (`/__bridge/delay`), so a loopback run shows what a
 * distant provider and a distant Redis primary cost. Lower bounds only: the delay is injected.
 */
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockProvider, startMockProvider } from "../../local/mock-provider";
import { type RedisBridge, startRedisBridge } from "../../local/redis/bridge";
import { type RedisServer, startRedisServer } from "../../local/redis/server";

const TOKEN = "test-token-for-the-latency-bridge";
let mock: MockProvider;
let server: RedisServer;
let bridge: RedisBridge;

beforeAll(async () => {
  mock = await startMockProvider();
  server = await startRedisServer();
  bridge = await startRedisBridge({ redisUrl: server.url, token: TOKEN });
});

afterAll(async () => {
  await mock?.close();
  await bridge?.close();
  await server?.stop();
});

const chat = (headers: Record<string, string>, model = "gpt-4o-mini") =>
  fetch(`${mock.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer sk-test", "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream: true }),
  });

const command = (body: unknown, path = "/", token = TOKEN) =>
  fetch(`${bridge.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("mock ttfb-ms", () => {
  it("holds the answer's headers back by the header's milliseconds, then streams it whole", async () => {
    const start = performance.now();
    const res = await chat({ "x-mock-ttfb-ms": "150" });
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
    expect(res.status).toBe(200);
    expect((await res.text()).trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("takes the model-suffix form too, and refuses a value that is not a whole number", async () => {
    const start = performance.now();
    const res = await chat({}, "gpt-4o-mini+ttfb-ms=100");
    expect(performance.now() - start).toBeGreaterThanOrEqual(95);
    expect(res.status).toBe(200);
    await res.text();
    const bad = await chat({ "x-mock-ttfb-ms": "-5" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("ttfb-ms must be a whole number");
  });
});

describe("bridge delay", () => {
  it("delays each command request once set, and stops when set back to 0", async () => {
    expect(await (await command({ ms: 120 }, "/__bridge/delay")).json()).toEqual({ result: "OK" });
    const start = performance.now();
    const res = await command(["PING"]);
    expect(performance.now() - start).toBeGreaterThanOrEqual(115);
    expect(await res.json()).toEqual({ result: "PONG" });
    const pipelineStart = performance.now();
    await (await command([["PING"], ["PING"]], "/pipeline")).json();
    expect(performance.now() - pipelineStart).toBeGreaterThanOrEqual(115);
    expect((await command({ ms: 0 }, "/__bridge/delay")).status).toBe(200);
    bridge.setDelayMs(0);
  });

  it("refuses a bad delay and a caller without the token", async () => {
    for (const ms of [-1, 1.5, 60_001, "10", null]) {
      const res = await command({ ms }, "/__bridge/delay");
      expect(res.status).toBe(400);
      expect((await res.json()) as { error: string }).toEqual({
        error: "ERR the delay is a whole number of milliseconds in [0, 60000]",
      });
    }
    const denied = await command({ ms: 5_000 }, "/__bridge/delay", "wrong-token");
    expect(denied.status).toBe(401);
    expect(() => bridge.setDelayMs(-3)).toThrow("whole number of milliseconds");
    expect(await (await command(["PING"])).json()).toEqual({ result: "PONG" });
  });
});
