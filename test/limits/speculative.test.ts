import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import { testDb } from "../metering/support";
import { gateway, post, upstreamRequests } from "../support/gateway";
import { admission, gateFor, testConfig } from "./support";

/**
 * Speculative admission through the gateway, on the real redis-server: a key whose last limits
 * answer showed ample headroom has its upstream call sent beside the limits round trip; when the
 * store refuses it anyway (another isolate used the room up), the call is aborted and the client
 * gets the refusal and nothing else. A refused key is refused from memory until its reset.
 */

const ROUTES = {
  spec: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], retries: 0 },
  // The upstream holds its first byte: a refusal always lands while the call is in flight.
  "spec-slow": {
    targets: [{ provider: "mock", model: "gpt-4o-mini+fault=slow-first-byte-5000" }],
    retries: 0,
  },
  "spec-cached": {
    targets: [{ provider: "mock", model: "gpt-4o-mini" }],
    retries: 0,
    cache: { ttl_seconds: 60 },
  },
  // The first target fails: the fallback runs once, inside the speculative attempt.
  "spec-fallback": {
    targets: [
      { provider: "mock", model: "gpt-4o-mini+fault=status-503" },
      { provider: "mock-b", model: "gpt-4o-mini" },
    ],
    retries: 0,
  },
};
const MARKER = /spec-[0-9a-f]{8}-[0-9a-f-]{27}/;

/** The mock's records of the requests carrying `marker` in their body. */
async function received(marker: string) {
  return (await upstreamRequests()).filter((r) => JSON.stringify(r.body).includes(marker));
}

/**
 * The gateway's upstream fetch: the real one, except that an abort goes through only once the
 * mock has recorded the request, so "it was dispatched" is something the mock can count however
 * fast the limits answer comes back. `events` logs the order of dispatches and admissions.
 */
function recordingFetcher(events: string[]): typeof fetch {
  return async (input, init) => {
    const marker = MARKER.exec(String(init?.body ?? ""))?.[0] ?? "";
    events.push("upstream");
    const controller = new AbortController();
    const response = fetch(input, { ...init, signal: controller.signal });
    for (let i = 0; i < 200 && marker && (await received(marker)).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const signal = init?.signal;
    if (signal?.aborted) controller.abort();
    else signal?.addEventListener("abort", () => controller.abort());
    return response;
  };
}

/** A gateway on the real stack with a movable clock, logging when the gate is asked and answers. */
function specGateway(extra: Record<string, unknown> = {}) {
  const events: string[] = [];
  const clock = { offsetMs: 0 };
  const gw = gateway(
    // A generous freshness window: the test's own pace must not decide whether it speculates.
    { routes: ROUTES, speculative_admission: { max_age_ms: 60_000 }, ...extra },
    { fetcher: recordingFetcher(events), now: () => Date.now() + clock.offsetMs },
  );
  const gate = gw.services.gate;
  const admit = gate.admit.bind(gate);
  gate.admit = async (request) => {
    events.push("admit");
    const answer = await admit(request);
    events.push(answer.error ? "refused" : "admitted");
    return answer;
  };
  return { gw, events, clock, redisCommands: recordRedis(gw) };
}

/**
 * Every command this gateway sends to Redis, as sent: its Upstash client's HTTP layer, which the
 * gate's pipeline calls per round trip, is wrapped in place.
 */
function recordRedis(gw: ReturnType<typeof gateway>): string[][] {
  const commands: string[][] = [];
  const requester = (
    gw.services.redis as unknown as { client: { request: (req: unknown) => Promise<unknown> } }
  ).client;
  const request = requester.request.bind(requester);
  requester.request = (req) => {
    const body = (req as { body?: unknown }).body;
    if (Array.isArray(body))
      for (const command of body) if (Array.isArray(command)) commands.push(command.map(String));
    return request(req);
  };
  return commands;
}

/** A key of its own tenant with the given limits (its id known, so another gate can share it). */
async function keyWith(limits: Record<string, number>) {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const keyId = `spec-key-${crypto.randomUUID()}`;
  const tenant = `spec-tenant-${crypto.randomUUID()}`;
  const { token } = await mintKey(
    signer,
    { tenant, keyId, name: "spec", plan: "enterprise", limits },
    { issuer: "sluice", audience: "sluice" },
  );
  return { token, caller: { tenant, keyId, expiresAt: null, plan: "enterprise", limits } };
}

/** Another isolate's gate takes every request the key has left this minute. */
async function exhaustRequests(caller: Awaited<ReturnType<typeof keyWith>>["caller"], count: number) {
  const { gate } = gateFor(testConfig());
  const taken = await Promise.all(Array.from({ length: count }, () => gate.admit(admission(caller))));
  expect(taken.every((a) => a.error === null)).toBe(true);
}

const db = testDb();

async function rowOf(label: string) {
  const result = await db.execute(
    sql`select status, error_code, provider, attempts, prompt_tokens, completion_tokens, cost_usd
        from usage_events where client_request_id = ${label}`,
  );
  expect(result.rows, `usage row of ${label}`).toHaveLength(1);
  return result.rows[0] as Record<string, unknown>;
}

/** One chat request with its own marker (in the prompt) and label (the usage row's client id). */
async function send(
  gw: ReturnType<typeof specGateway>["gw"],
  token: string,
  body: Record<string, unknown> = {},
) {
  const marker = `spec-${crypto.randomUUID()}`;
  const label = `label-${marker}`;
  const { response, settled } = await gw.start(
    "/v1/chat/completions",
    post(
      { model: "spec", messages: [{ role: "user", content: `Say hi ${marker}` }], max_tokens: 16, ...body },
      token,
      { "x-request-id": label },
    ),
  );
  const text = await response.text();
  await settled;
  return { response, text, marker, label };
}

describe("speculative admission", () => {
  it("sends the upstream call beside the limits round trip when the last answer showed ample headroom", async () => {
    const { gw, events } = specGateway();
    const { token } = await keyWith({ rpm: 100 });

    // No picture of this key yet: it decides first.
    const first = await send(gw, token);
    expect(first.response.status).toBe(200);
    expect(events).toEqual(["admit", "admitted", "upstream"]);

    // 99 requests left of 100, at least ten times what one takes: the call goes out before the
    // gate is even asked (its fetch leaves in the same turn), so the answer cannot come first.
    events.length = 0;
    const second = await send(gw, token);
    expect(second.response.status).toBe(200);
    expect(JSON.parse(second.text).choices[0].message.content).toContain("Mock reply to");
    expect(events).toEqual(["upstream", "admit", "admitted"]);
    expect(await received(second.marker)).toHaveLength(1);
    expect((await rowOf(second.label)).status).toBe(200);
  });

  it("runs the fallback once, inside the speculative attempt", async () => {
    const { gw, events } = specGateway();
    const { token } = await keyWith({ rpm: 100 });
    await send(gw, token);
    events.length = 0;
    const served = await send(gw, token, { model: "spec-fallback" });
    expect(served.response.status).toBe(200);
    expect(served.response.headers.get("x-sluice-provider")).toBe("mock-b");
    // Dispatched before the answer; the fallback's call may come before or after it.
    expect(events.slice(0, 2)).toEqual(["upstream", "admit"]);
    expect([...events].sort()).toEqual(["admit", "admitted", "upstream", "upstream"]);
    expect(await received(served.marker)).toHaveLength(2);
    expect(await rowOf(served.label)).toMatchObject({ status: 200, provider: "mock-b", attempts: 2 });
  });

  it("decides first for a key near its limits, and on a route with the response cache", async () => {
    const { gw, events } = specGateway();
    const near = await keyWith({ rpm: 5 });
    await send(gw, near.token);
    events.length = 0;
    // 4 requests left: less than ten times one request.
    expect((await send(gw, near.token)).response.status).toBe(200);
    expect(events).toEqual(["admit", "admitted", "upstream"]);

    const roomy = await keyWith({ rpm: 1000 });
    await send(gw, roomy.token);
    events.length = 0;
    // A cache hit must never cost an upstream call.
    expect((await send(gw, roomy.token, { model: "spec-cached" })).response.status).toBe(200);
    expect(events).toEqual(["admit", "admitted", "upstream"]);
  });

  it("a speculative request refused by the limits store sends nothing to the client but the refusal", async () => {
    const { gw, events } = specGateway();
    const { token, caller } = await keyWith({ rpm: 20 });
    expect((await send(gw, token)).response.status).toBe(200);
    // Another isolate takes the 19 requests this isolate last saw left.
    await exhaustRequests(caller, 19);

    events.length = 0;
    const refused = await send(gw, token, { model: "spec-slow" });
    expect(events).toEqual(["upstream", "admit", "refused"]);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get("content-type")).toContain("application/json");
    expect(JSON.parse(refused.text)).toEqual({
      error: expect.objectContaining({ code: "rate_limit_exceeded", type: "rate_limit_error" }),
    });
    expect(refused.response.headers.get("x-sluice-provider")).toBeNull();
    // The upstream got the call, and the gateway hung up on it before it answered.
    const [upstream, ...more] = await received(refused.marker);
    expect(more).toHaveLength(0);
    expect(upstream?.completed).toBe(false);
    await expect.poll(async () => (await received(refused.marker))[0]?.cancelled).toBe(true);
    // The row: the refusal, after one attempt at the mock; nothing metered to the caller.
    expect(await rowOf(refused.label)).toMatchObject({
      status: 429,
      error_code: "rate_limit_exceeded",
      provider: "mock",
      attempts: 1,
      prompt_tokens: 0,
      completion_tokens: 0,
    });
  });

  it("streams nothing before the decision: a refused speculative stream answers the refusal alone", async () => {
    const { gw, events } = specGateway();
    const { token, caller } = await keyWith({ rpm: 20 });
    expect((await send(gw, token, { stream: true })).response.status).toBe(200);
    await exhaustRequests(caller, 19);

    events.length = 0;
    const refused = await send(gw, token, { model: "spec-slow", stream: true });
    expect(events).toEqual(["upstream", "admit", "refused"]);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get("content-type")).not.toContain("event-stream");
    expect(refused.text).not.toContain("data:");
    expect(JSON.parse(refused.text).error.code).toBe("rate_limit_exceeded");
    expect(await received(refused.marker)).toHaveLength(1);
    await expect.poll(async () => (await received(refused.marker))[0]?.cancelled).toBe(true);
    expect(await rowOf(refused.label)).toMatchObject({ status: 429, attempts: 1, provider: "mock" });
  });

  it("a refused key dispatches nothing upstream until its reset, then passes", async () => {
    const { gw, events, clock, redisCommands } = specGateway();
    // tpm windows follow the gateway's clock, so the test can move past the reset.
    const { token, caller } = await keyWith({ tpm: 1000 });
    const warm = await send(gw, token);
    expect(warm.response.status).toBe(200);
    // What the gateway reserves for this prompt besides max_tokens, read from the remaining tokens.
    const promptBound = 1000 - Number(warm.response.headers.get("x-ratelimit-remaining-tokens")) - 16;

    // A worst case of 995 tokens fits the limit but not what is left this minute: refused by the store...
    const big = { max_tokens: 995 - promptBound };
    const first = await send(gw, token, big);
    expect(first.response.status).toBe(429);
    expect(JSON.parse(first.text).error.message).toContain("Rate limit reached for tokens per min (TPM)");

    // ...then from memory: the gate is asked, nothing goes upstream, and no admission goes to Redis.
    events.length = 0;
    const admissionsOf = () =>
      redisCommands.filter((c) => c.some((arg) => arg.includes(caller.keyId))).length;
    const admissionsBefore = admissionsOf();
    for (let i = 0; i < 3; i++) {
      const again = await send(gw, token, big);
      expect(again.response.status).toBe(429);
      expect(Number(again.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await received(again.marker)).toHaveLength(0);
      expect(await rowOf(again.label)).toMatchObject({
        status: 429,
        error_code: "rate_limit_exceeded",
        attempts: 0,
      });
    }
    expect(events).toEqual(["admit", "refused", "admit", "refused", "admit", "refused"]);
    expect(admissionsOf()).toBe(admissionsBefore);

    // Past the window's reset the same request passes.
    clock.offsetMs += 120_000;
    const after = await send(gw, token, big);
    expect(after.response.status).toBe(200);
    expect(admissionsOf()).toBeGreaterThan(admissionsBefore);
    expect(await received(after.marker)).toHaveLength(1);
  });
});
