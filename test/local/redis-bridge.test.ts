import { createHash } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { waitFor } from "../../local/net";
import { type RedisBridge, startRedisBridge } from "../../local/redis/bridge";
import { type RedisServer, startRedisServer } from "../../local/redis/server";

const TOKEN = "test-token-for-the-local-bridge";
let server: RedisServer;
let bridge: RedisBridge;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  bridge = await startRedisBridge({ redisUrl: server.url, token: TOKEN });
  redis = new Redis({ url: bridge.url, token: TOKEN });
});

afterAll(async () => {
  await bridge?.close();
  await server?.stop();
});

/** A key unique to this test, so tests never see each other's data. */
let keyCounter = 0;
const key = (name: string) => `${name}:${++keyCounter}`;

describe("strings and numbers", () => {
  it("round-trips values that only survive base64", async () => {
    const values = ["héllo wörld 🌊", "OK", 'quotes " and \\ backslashes', "line\nbreaks\r\n", ""];
    for (const value of values) {
      const k = key("str");
      expect(await redis.set(k, value)).toBe("OK");
      expect(await redis.get(k)).toBe(value);
    }
    expect(await redis.get(key("missing"))).toBeNull();
  });

  it("round-trips JSON objects and numbers", async () => {
    const k = key("obj");
    await redis.set(k, { name: "ünïcode", tags: ["a", "b"], n: 1.5 });
    expect(await redis.get(k)).toEqual({ name: "ünïcode", tags: ["a", "b"], n: 1.5 });

    const n = key("num");
    await redis.set(n, 41);
    expect(await redis.incr(n)).toBe(42);
    expect(await redis.get(n)).toBe(42);
    expect(await redis.incrbyfloat(n, 0.5)).toBe(42.5);
  });

  it("also works without base64 encoding", async () => {
    const plain = new Redis({ url: bridge.url, token: TOKEN, responseEncoding: false });
    const k = key("plain");
    await plain.set(k, "héllo 🌊");
    expect(await plain.get(k)).toBe("héllo 🌊");
    expect(await plain.mget(k, key("missing"))).toEqual(["héllo 🌊", null]);
  });

  it("turns a Redis error on a single command into a rejected call", async () => {
    const k = key("text");
    await redis.set(k, "not a number");
    await expect(redis.incr(k)).rejects.toThrow(/ERR value is not an integer/);
  });
});

describe("hashes and lists", () => {
  it("returns HGETALL as an object", async () => {
    const k = key("hash");
    expect(await redis.hset(k, { name: "ada", city: "Zürich", visits: 3 })).toBe(3);
    expect(await redis.hgetall(k)).toEqual({ name: "ada", city: "Zürich", visits: 3 });
    expect(await redis.hgetall(key("no-hash"))).toBeNull();
  });

  it("returns nested arrays decoded", async () => {
    const k = key("zset");
    await redis.zadd(k, { score: 1, member: "één" }, { score: 2, member: "OK" });
    expect(await redis.zrange(k, 0, -1, { withScores: true })).toEqual(["één", 1, "OK", 2]);
  });
});

describe("pipelines and transactions", () => {
  it("sends commands started in the same tick as one /pipeline request", async () => {
    const [a, b, h] = [key("pa"), key("pb"), key("ph")];
    bridge.resetStats();
    const results = await Promise.all([
      redis.set(a, "first"),
      redis.incr(b),
      redis.incr(b),
      redis.hset(h, { f: 1 }),
    ]);
    expect(results).toEqual(["OK", 1, 2, 1]);
    expect(bridge.stats()).toEqual({ requests: 1, commands: 4 });
  });

  it("sends reads and writes of the same tick as two pipelines (the client splits them)", async () => {
    const [a, b] = [key("ra"), key("rb")];
    await redis.set(a, "first");
    bridge.resetStats();
    // The two pipelines travel concurrently, so a read here may not see a write of the same tick.
    const results = await Promise.all([redis.get(a), redis.exists(a), redis.incr(b)]);
    expect(results).toEqual(["first", 1, 1]);
    expect(bridge.stats()).toEqual({ requests: 2, commands: 3 });
  });

  it("reports a failing command inside a pipeline on its own", async () => {
    const k = key("pipe-text");
    const results = await redis.pipeline().set(k, "words").incr(k).get(k).exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", undefined, "words"]);
    expect(results[1]?.error).toMatch(/ERR value is not an integer/);
  });

  it("runs a MULTI/EXEC transaction in one request", async () => {
    const k = key("tx");
    bridge.resetStats();
    const results = await redis.multi().set(k, 10).incr(k).incrby(k, 5).get(k).exec();
    expect(results).toEqual(["OK", 11, 16, 16]);
    expect(bridge.stats()).toEqual({ requests: 1, commands: 4 });
  });

  it("refuses a transaction holding a command Redis rejects while queueing", async () => {
    const k = key("tx-bad");
    const response = await fetch(`${bridge.url}/multi-exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify([
        ["set", k, "1"],
        ["set", k],
      ]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: expect.stringMatching(/^EXECABORT.*wrong number of arguments/),
    });
    expect(await redis.get(k)).toBeNull();
  });
});

describe("scripts", () => {
  it("runs EVAL with keys and arguments", async () => {
    const k = key("eval");
    const result = await redis.eval(
      "return {KEYS[1], ARGV[1], redis.call('incrby', KEYS[1], ARGV[2])}",
      [k],
      ["árg", "7"],
    );
    expect(result).toEqual([k, "árg", 7]);
  });

  it("accepts Upstash's allow-key-locking shebang and maps the client's SHA1 for EVALSHA", async () => {
    const script = "#!lua flags=allow-key-locking\nreturn redis.call('incr', KEYS[1])";
    const sha = createHash("sha1").update(script).digest("hex");
    const k = key("locked");
    await expect(redis.evalsha(sha, [k], [])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [k], [])).toBe(1);
    expect(await redis.evalsha(sha, [k], [])).toBe(2);
    expect(await redis.scriptLoad(script)).toBe(sha);
    expect(await redis.scriptExists(sha)).toEqual([1]);
  });

  it("lets a client script fall back from EVALSHA to EVAL", async () => {
    const script = redis.createScript<number>("#!lua flags=allow-key-locking\nreturn #ARGV");
    expect(await script.exec([], ["a", "b", "c"])).toBe(3);
    expect(await script.exec([], ["a"])).toBe(1);
  });
});

describe("@upstash/ratelimit", () => {
  // Freeze the clock mid-window so no run can straddle a window boundary.
  const freezeClock = () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:05.000Z"));
  };
  afterEach(() => {
    vi.useRealTimers();
  });

  async function allowedOutOf(limiter: Ratelimit, calls: number): Promise<boolean[]> {
    const outcomes: boolean[] = [];
    for (let i = 0; i < calls; i++) outcomes.push((await limiter.limit("user-1")).success);
    return outcomes;
  }

  it("slidingWindow(10, '10 s') allows exactly 10 of 20 calls", async () => {
    freezeClock();
    const limiter = new Ratelimit({ redis, limiter: Ratelimit.slidingWindow(10, "10 s"), prefix: key("sw") });
    const outcomes = await allowedOutOf(limiter, 20);
    expect(outcomes).toEqual([...Array(10).fill(true), ...Array(10).fill(false)]);
  });

  it("fixedWindow counts down remaining and then denies", async () => {
    freezeClock();
    const limiter = new Ratelimit({ redis, limiter: Ratelimit.fixedWindow(3, "10 s"), prefix: key("fw") });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.limit("user-1"));
    expect(results.map((r) => [r.success, r.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
      [false, 0],
    ]);
    expect(await limiter.getRemaining("user-2")).toMatchObject({ remaining: 3 });
  });

  it("tokenBucket spends its tokens, then refills over time", async () => {
    freezeClock();
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.tokenBucket(2, "10 s", 4),
      prefix: key("tb"),
      ephemeralCache: false,
    });
    expect(await allowedOutOf(limiter, 6)).toEqual([true, true, true, true, false, false]);
    vi.setSystemTime(new Date("2030-01-01T00:00:15.000Z"));
    expect(await allowedOutOf(limiter, 3)).toEqual([true, true, false]);
  });

  it("consumes several units at once with { rate }", async () => {
    freezeClock();
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(10, "10 s"),
      prefix: key("rate"),
    });
    expect(await limiter.limit("user-1", { rate: 4 })).toMatchObject({ success: true, remaining: 6 });
    expect(await limiter.limit("user-1", { rate: 6 })).toMatchObject({ success: true, remaining: 0 });
    expect((await limiter.limit("user-1")).success).toBe(false);
  });
});

describe("auth and stats over HTTP", () => {
  it("rejects a wrong token with 401 JSON", async () => {
    const response = await fetch(bridge.url, {
      method: "POST",
      headers: { authorization: "Bearer wrong", "content-type": "application/json" },
      body: JSON.stringify(["get", "x"]),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Unauthorized" });
    const intruder = new Redis({ url: bridge.url, token: "wrong" });
    await expect(intruder.get("x")).rejects.toThrow(/Unauthorized/);
  });

  it("serves and resets its counters for callers inside workerd", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    await redis.get(key("counted"));
    const stats = await fetch(`${bridge.url}/__bridge/stats`, { headers: auth });
    expect((await stats.json()) as unknown).toMatchObject({
      requests: expect.any(Number),
      commands: expect.any(Number),
    });
    expect((await fetch(`${bridge.url}/__bridge/stats`)).status).toBe(401);

    const reset = await fetch(`${bridge.url}/__bridge/reset-stats`, { method: "POST", headers: auth });
    expect(reset.status).toBe(200);
    expect(await (await fetch(`${bridge.url}/__bridge/stats`, { headers: auth })).json()).toEqual({
      requests: 0,
      commands: 0,
    });
    await redis.get(key("counted"));
    expect(bridge.stats()).toEqual({ requests: 1, commands: 1 });
  });

  it("accepts Upstash's URL form", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const k = key("url form");
    await fetch(`${bridge.url}/set/${encodeURIComponent(k)}/v%2F1`, { headers: auth });
    const response = await fetch(`${bridge.url}/get/${encodeURIComponent(k)}`, { headers: auth });
    expect(await response.json()).toEqual({ result: "v/1" });
  });

  it("answers 400 for a malformed body", async () => {
    const response = await fetch(bridge.url, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/^ERR/) });
  });
});

describe("when redis-server goes down", () => {
  /** Rejects if `promise` has not settled by then: an error must come back, not a hang. */
  const settlesWithin = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms),
      ),
    ]);

  it("fails requests promptly, then recovers once Redis is back", async () => {
    const k = key("outage");
    await redis.set(k, "before");
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.fixedWindow(5, "1 h"),
      prefix: key("outage-rl"),
    });
    expect((await limiter.limit("user-1")).success).toBe(true);

    await server.stop();
    await expect(settlesWithin(redis.get(k), 5_000)).rejects.toThrow(/Redis is unavailable/);
    await expect(settlesWithin(Promise.all([redis.get(k), redis.incr(k)]), 5_000)).rejects.toThrow(
      /Redis is unavailable/,
    );
    const raw = await fetch(bridge.url, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(["ping"]),
    });
    expect(raw.status).toBe(503);

    await server.start();
    await waitFor("the bridge to reconnect", async () => (await redis.ping()) === "PONG");
    // The restarted server is empty (no persistence), and its script cache too: EVALSHA must fall back.
    expect(await redis.get(k)).toBeNull();
    expect(await redis.set(k, "after")).toBe("OK");
    expect(await redis.get(k)).toBe("after");
    expect((await limiter.limit("user-1")).success).toBe(true);
  });
});
