import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindings, buildGateways, chat, eventually, freshKey, type Gateway } from "./observability-support";

const SECRET = `whsec-${crypto.randomUUID()}`;
const ADMIN = { authorization: `Bearer ${bindings.ADMIN_TOKEN}` };
/** Each call reports 200 reasoning tokens on top of its reply: it spends well past its reservation. */
const SPENDY = "gpt-4o-mini+reasoning-tokens=200";

interface Webhook {
  signature: string;
  body: string;
  json: Record<string, unknown>;
}

/** A webhook receiver that keeps every delivery as received (raw body for the signature). */
async function startReceiver(): Promise<{ url: string; hooks: Webhook[]; close(): Promise<void> }> {
  const hooks: Webhook[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      hooks.push({ signature: String(req.headers["sluice-signature"] ?? ""), body, json: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    hooks,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Checks a `t=...,v1=...` header as a receiver would: HMAC-SHA256 of "<t>.<body>", recent t. */
function validSignature(hook: Webhook): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(hook.signature);
  if (!match) return false;
  const expected = createHmac("sha256", SECRET).update(`${match[1]}.${hook.body}`).digest("hex");
  return expected === match[2] && Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
}

describe("signed alert webhooks", () => {
  const gateways: Gateway[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let cleanup = () => {};
  const failing = `gpt-4o-mini+fault=status-503+chunk-delay-ms=${Math.floor(Math.random() * 1e9)}`;

  beforeAll(async () => {
    receiver = await startReceiver();
    const built = await buildGateways();
    cleanup = built.cleanup;
    const config = {
      alerts: { webhook_url: receiver.url },
      routes: {
        spendy: { targets: [{ provider: "mock-openai", model: SPENDY }], retries: 0 },
        failing: { targets: [{ provider: "mock-openai", model: failing }], retries: 0 },
      },
      prices: [{ provider: "mock-openai", model: SPENDY, input: 0.15, output: 0.6 }],
      breaker: { min_requests: 3, failure_ratio: 0.5, window_seconds: 60, cooldown_seconds: 60 },
    };
    // Three workerd processes: three isolates, each with its own in-memory state.
    for (let i = 0; i < 3; i++) gateways.push(await built.serve(config, { ALERTS_WEBHOOK_SECRET: SECRET }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await receiver?.close();
    cleanup();
  });

  const runCron = () => Promise.all(gateways.map((g) => g.scheduled()));

  it("sends exactly one webhook per budget threshold (50/80/100%), under concurrency across isolates", async () => {
    const { token, keyId, tenant } = await freshKey({
      plan: "enterprise",
      limits: { budget_usd_day: 0.002 },
    });
    let refused = 0;
    for (let wave = 0; wave < 30 && refused === 0; wave++) {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          chat((gateways[i % 3] as Gateway).url, token, { model: "spendy", max_tokens: 5 }),
        ),
      );
      for (const answer of answers) {
        if (answer.status === 429) refused++;
        else expect(answer.status).toBe(200);
      }
    }
    expect(refused).toBeGreaterThan(0);

    const mine = () => receiver.hooks.filter((h) => h.json.type === "budget" && h.json.tenant === tenant);
    await eventually("three budget webhooks", async () => {
      await runCron();
      return mine().length >= 3 ? true : undefined;
    });
    // Several more cron runs, from every isolate at once: nothing is sent twice.
    await runCron();
    await runCron();
    const hooks = mine();
    expect(hooks).toHaveLength(3);
    expect(hooks.map((h) => h.json.threshold).sort((a, b) => Number(a) - Number(b))).toEqual([50, 80, 100]);
    for (const hook of hooks) {
      expect(validSignature(hook)).toBe(true);
      expect(hook.json).toMatchObject({
        scope: "key",
        scope_id: keyId,
        limit_micros: 2000,
        limit_usd: 0.002,
      });
      expect(Number(hook.json.spent_micros) * 100).toBeGreaterThanOrEqual(Number(hook.json.threshold) * 2000);
      expect(hook.json.period).toMatch(/^d:\d{4}-\d{2}-\d{2}$/);
      expect(hook.json.id).toMatch(/^alert_[0-9a-f]{24}$/);
      // No secret, no key in the payload.
      expect(hook.body).not.toContain(SECRET);
      expect(hook.body).not.toContain(token);
    }
    // A tampered body fails the check.
    expect(validSignature({ ...(hooks[0] as Webhook), body: `${hooks[0]?.body} ` })).toBe(false);
  });

  it("sends one webhook when a target's breaker opens, however many isolates see it fail", async () => {
    const { token } = await freshKey();
    const target = `mock-openai/${failing}`;
    for (let round = 0; round < 4; round++) {
      await Promise.all(gateways.map((g) => chat(g.url, token, { model: "failing" })));
    }
    const opened = () => receiver.hooks.filter((h) => h.json.type === "breaker" && h.json.target === target);
    await eventually("the breaker webhook", async () => {
      await runCron();
      return opened().length >= 1 ? true : undefined;
    });
    await runCron();
    expect(opened()).toHaveLength(1);
    const hook = opened()[0] as Webhook;
    expect(validSignature(hook)).toBe(true);
    expect(hook.json).toMatchObject({ type: "breaker", state: "open", target });
    expect(Number(hook.json.open_until)).toBeGreaterThan(Date.now());

    // Counted once in the metrics too.
    const metrics = await (await fetch(`${gateways[0]?.url}/admin/metrics`, { headers: ADMIN })).text();
    const line = metrics
      .split("\n")
      .find((l) => l.startsWith(`sluice_breaker_openings_total{target="${target}"}`));
    expect(line?.split(" ").pop()).toBe("1");
  });
});
