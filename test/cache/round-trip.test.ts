import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admission,
  bridgeStats,
  controlCall,
  countRedisFetches,
  freshCaller,
  gateFor,
  redis,
  testConfig,
} from "../limits/support";
import { gateway, post } from "../support/gateway";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the response cache's lookup", () => {
  it("rides the gate's one round trip: one bridge request, one more command", async () => {
    const caller = freshCaller();
    const { gate } = gateFor(testConfig({ rpm: 100, tpm: 100_000, concurrency: 10 }));
    const key = `sluice:rc:test:${crypto.randomUUID()}`;
    await redis.set(key, "stored-value", { ex: 60 });
    await (await gate.admit(admission(caller))).settle({ tokens: 1, costMicros: 0 });

    const fetches = countRedisFetches();
    const counts: { requests: number; commands: number }[] = [];
    const values: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      await controlCall("POST", "/redis/reset-stats");
      const admitted = await gate.admit(admission(caller, { cacheKey: key }));
      counts.push(await bridgeStats());
      values.push(admitted.cached);
      await admitted.settle({ tokens: 0, costMicros: 0 });
    }
    expect(fetches()).toBe(6); // three admissions and three settlements
    const quietest = counts.reduce((a, b) => (b.requests < a.requests ? b : a));
    expect(quietest.requests).toBe(1);
    // The gate's script, the key's sliding window, and the GET.
    expect(quietest.commands).toBe(3);
    expect(values).toEqual(["stored-value", "stored-value", "stored-value"]);

    const miss = await gate.admit(admission(caller, { cacheKey: `${key}:absent` }));
    expect(miss.cached).toBeNull();
    await miss.settle({ tokens: 0, costMicros: 0 });
  });
});

describe("the response cache's store", () => {
  const routes = {
    plain: { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
    cached: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], cache: { ttl_seconds: 60 } },
  };
  const gw = gateway({ routes });

  /** Bridge requests one chat costs, its waitUntil work included; the quietest of three tries. */
  async function redisRequestsOf(model: string, stream: boolean): Promise<number> {
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const body = {
        model,
        temperature: 0,
        stream,
        messages: [{ role: "user", content: crypto.randomUUID() }],
      };
      await controlCall("POST", "/redis/reset-stats");
      const { response, settled } = await gw.start("/v1/chat/completions", post(body));
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      await settled;
      counts.push((await bridgeStats()).requests);
    }
    return Math.min(...counts);
  }

  it("rides the settlement batch: a miss costs no Redis request more than a route without cache", async () => {
    for (const stream of [false, true]) {
      const plain = await redisRequestsOf("plain", stream);
      expect(plain).toBe(2); // the admission, then the settlement batch
      expect(await redisRequestsOf("cached", stream)).toBe(plain);
    }
  });

  it("is stored by then: the same request again is a hit", async () => {
    for (const stream of [false, true]) {
      const body = {
        model: "cached",
        temperature: 0,
        stream,
        messages: [{ role: "user", content: crypto.randomUUID() }],
      };
      const first = await gw.start("/v1/chat/completions", post(body));
      expect(first.response.headers.get("x-sluice-cache")).toBe("MISS");
      await first.response.arrayBuffer();
      await first.settled;
      const again = await gw.fetch("/v1/chat/completions", post(body));
      expect(again.headers.get("x-sluice-cache")).toBe("HIT");
      await again.arrayBuffer();
    }
  });
});
