import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { ConfigSchema } from "../../src/config";
import { type Caller, createGate, createLimitsRedis, type GateOptions } from "../../src/limits";
import type { AdmissionRequest } from "../../src/limits/types";

/** A fixed instant well inside a UTC day and month, so window and period maths are predictable. */
export const T0 = Date.UTC(2030, 5, 15, 12, 0, 0);

/** A client like the gateway's, on the real redis-server behind the bridge. */
export const redis = createLimitsRedis({
  url: env.UPSTASH_REDIS_REST_URL as string,
  token: env.UPSTASH_REDIS_REST_TOKEN as string,
});

/** Config with one test plan; `plan` overrides its limits. */
export function testConfig(plan: Record<string, number> = {}, extra: Record<string, unknown> = {}) {
  return ConfigSchema.parse({
    plans: { test: { rpm: 1000, tpm: 10_000_000, concurrency: 1000, ...plan } },
    default_plan: "test",
    ...extra,
  });
}

/** A controllable clock: `clock.ms` moves time for the gate. */
export function gateFor(config: ReturnType<typeof testConfig>, opts: Partial<GateOptions> = {}) {
  const clock = { ms: T0 };
  const gate = createGate({ redis, config, now: () => clock.ms, ...opts });
  return { gate, clock };
}

/** A caller with a fresh key id (and tenant unless given): tests share one Redis. */
export function freshCaller(overrides: Partial<Caller> = {}): Caller {
  const id = crypto.randomUUID();
  return {
    tenant: `tenant-${id}`,
    keyId: `key-${id}`,
    expiresAt: null,
    plan: null,
    limits: {},
    ...overrides,
  };
}

export function admission(caller: Caller, overrides: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return {
    caller,
    requestId: crypto.randomUUID(),
    estimatedTokens: 10,
    worstCaseMicros: null,
    breakerKeys: [],
    ...overrides,
  };
}

const control = env.SLUICE_TEST_CONTROL_URL as string;

/** Calls the stack's control endpoint (stop/start Redis, bridge stats). */
export async function controlCall<T = unknown>(method: "GET" | "POST", path: string): Promise<T> {
  const response = await fetch(`${control}${path}`, { method });
  if (!response.ok) throw new Error(`control ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export const bridgeStats = () => controlCall<{ requests: number; commands: number }>("GET", "/redis/stats");

/** Waits until the bridge reaches redis-server again (it reconnects on its own after a restart). */
export async function waitForRedis(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await redis.ping().catch(() => null)) === "PONG") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("Redis did not come back");
}

/** Stops redis-server for the duration of `body`, then starts it and waits until it answers. */
export async function withRedisStopped(body: () => Promise<void>): Promise<void> {
  await controlCall("POST", "/redis/stop");
  try {
    await body();
  } finally {
    await controlCall("POST", "/redis/start");
    await waitForRedis();
  }
}

/**
 * Counts this isolate's HTTP requests to the Redis bridge from now on (the bridge's stats count
 * everyone's). Undo with `vi.restoreAllMocks()`.
 * @example const redisFetches = countRedisFetches(); ...; expect(redisFetches()).toBe(1)
 */
export function countRedisFetches(): () => number {
  const origin = new URL(env.UPSTASH_REDIS_REST_URL as string).origin;
  const spy = vi.spyOn(globalThis, "fetch");
  return () =>
    spy.mock.calls.filter(
      ([input]) => new URL(input instanceof Request ? input.url : String(input)).origin === origin,
    ).length;
}
