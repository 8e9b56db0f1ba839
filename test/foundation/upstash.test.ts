import { env } from "cloudflare:workers";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";

describe("Upstash REST bridge from inside workerd", () => {
  const redis = new Redis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });

  it("round-trips values through the real redis-server", async () => {
    const key = `foundation:${crypto.randomUUID()}`;
    await redis.set(key, { hello: "wörld" }, { ex: 60 });
    expect(await redis.get(key)).toEqual({ hello: "wörld" });
  });

  it('lets slidingWindow(10, "10 s") pass exactly 10 of 20 calls', async () => {
    const limiter = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(10, "10 s"),
      prefix: `rl:${crypto.randomUUID()}`,
    });
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await limiter.limit("caller"));
    expect(results.filter((r) => r.success)).toHaveLength(10);
    expect(results.slice(0, 10).every((r) => r.success)).toBe(true);
    expect(results.slice(10).every((r) => !r.success)).toBe(true);
  });
});
