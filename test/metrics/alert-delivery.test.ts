import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/config";
import { deliverAlerts, signatureHeader } from "../../src/observability";
import { testRedis } from "../admin/support";

const SECRET = "whsec-test-secret";

/** A private queue and retry set, so no other test's cron takes these alerts. */
function setup(fetcher: typeof fetch, maxAttempts = 3) {
  const id = crypto.randomUUID();
  const keys = { queue: `test:alerts:${id}:queue`, retry: `test:alerts:${id}:retry` };
  const clock = { ms: Date.UTC(2030, 0, 1) };
  const config = ConfigSchema.parse({
    alerts: { webhook_url: "https://hooks.example/global", max_attempts: maxAttempts },
  });
  const redis = testRedis();
  const run = () =>
    deliverAlerts({
      redis,
      config,
      env: { ALERTS_WEBHOOK_SECRET: SECRET },
      fetcher,
      now: () => clock.ms,
      log: () => {},
      keys,
    });
  return { keys, clock, redis, run };
}

const budgetAlert = JSON.stringify({
  type: "budget",
  tenant: "acme",
  scope: "key",
  scope_id: "k1",
  period: "d:2030-01-01",
  limit_micros: 1000,
  threshold: 80,
  spent_micros: 812,
  at: 1,
});

describe("alert delivery (the cron trigger's part)", () => {
  it("signs each webhook with t=..,v1=HMAC-SHA256(t.body)", async () => {
    const sent: { url: string; body: string; signature: string }[] = [];
    const { keys, redis, run } = setup(async (input, init) => {
      const headers = new Headers(init?.headers);
      sent.push({
        url: String(input),
        body: String(init?.body),
        signature: headers.get("sluice-signature") ?? "",
      });
      return new Response(null, { status: 204 });
    });
    await redis.rpush(keys.queue, budgetAlert);
    expect(await run()).toEqual({ sent: 1, failed: 0 });
    expect(sent).toHaveLength(1);
    const hook = sent[0] as (typeof sent)[number];
    expect(hook.url).toBe("https://hooks.example/global");
    const t = Number(/^t=(\d+),/.exec(hook.signature)?.[1]);
    expect(hook.signature).toBe(await signatureHeader(SECRET, hook.body, t));
    expect(JSON.parse(hook.body)).toMatchObject({
      type: "budget",
      threshold: 80,
      spent_usd: 0.000812,
      limit_usd: 0.001,
    });
    expect(hook.body).not.toContain(SECRET);
    expect(await run()).toEqual({ sent: 0, failed: 0 });
  });

  it("retries a failed delivery with backoff, then gives up after max_attempts", async () => {
    let status = 500;
    let calls = 0;
    const { keys, clock, redis, run } = setup(async () => {
      calls++;
      return new Response("no", { status });
    }, 3);
    await redis.rpush(keys.queue, budgetAlert);
    expect(await run()).toEqual({ sent: 0, failed: 1 });
    // Not yet due: nothing is sent.
    expect(await run()).toEqual({ sent: 0, failed: 0 });
    clock.ms += 30_000;
    expect(await run()).toEqual({ sent: 0, failed: 1 });
    clock.ms += 59_000;
    expect(await run()).toEqual({ sent: 0, failed: 0 });
    clock.ms += 1_000;
    status = 200;
    expect(await run()).toEqual({ sent: 1, failed: 0 });
    expect(calls).toBe(3);
    expect(await redis.zcard(keys.retry)).toBe(0);

    status = 503;
    await redis.rpush(keys.queue, budgetAlert);
    for (let i = 0; i < 3; i++) {
      await run();
      clock.ms += 3_600_000;
    }
    expect(await redis.zcard(keys.retry)).toBe(0);
    expect(calls).toBe(6);
  });
});
