import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { sql } from "drizzle-orm";
import { createApp } from "../../src/app";
import type { GatewayEnv } from "../../src/config";
import { createDatabase, type Database } from "../../src/db";
import { createServices, type ServiceOverrides, type Services } from "../../src/services";

/** The worker's bindings as the global setup provided them (real Redis, Postgres, mock provider). */
export const bindings = env as unknown as Record<string, string>;

/** The global setup's admin token (TEST_ADMIN_TOKEN), as the worker got it. */
export const ADMIN = { authorization: `Bearer ${bindings.ADMIN_TOKEN}` };

/** What the admin API answers for a key; `key` only on create and rotate. */
export interface KeyJson {
  id: string;
  object: "api_key";
  key?: string;
  tenant: string;
  name: string | null;
  models: string[];
  scopes: string[];
  plan: string | null;
  limits: Record<string, number>;
  signing_kid: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  grace_ends_at: string | null;
}

export interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/** Calls the real worker entry (src/index.ts), as a deployed gateway would be called. */
export const callWorker: Fetch = (path, init) =>
  exports.default.fetch(new Request(`http://sluice.test${path}`, init));

/** A gateway built in the test from the same bindings, with a clock the test moves (`clock.ms`). */
export interface TestGateway {
  fetch: Fetch;
  clock: { ms: number };
  services: Services;
}

/**
 * Builds the app around `createServices`, so a test controls time and can swap bindings (e.g. a
 * JWKS with two kids). `waitUntil` work is awaited before each response is handed back (streams are
 * read to the end first).
 */
export function testGateway(
  opts: { env?: Partial<GatewayEnv>; start?: number; overrides?: ServiceOverrides } = {},
): TestGateway {
  const clock = { ms: opts.start ?? Date.now() };
  const gatewayEnv = { ...bindings, ...opts.env } as GatewayEnv;
  const services = createServices(gatewayEnv, { now: () => clock.ms, ...opts.overrides });
  const app = createApp(services);
  return {
    clock,
    services,
    async fetch(path, init) {
      const ctx = createExecutionContext();
      const response = await app.fetch(new Request(`http://sluice.test${path}`, init), gatewayEnv, ctx);
      if (!response.headers.get("content-type")?.includes("event-stream")) {
        await waitOnExecutionContext(ctx);
        return response;
      }
      // A stream settles only once read: read it here, then hand back the same bytes.
      const body = await response.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return new Response(body, response);
    },
  };
}

/** JSON request options with the admin token. */
export function adminJson(method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { ...ADMIN, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** Mints a key through the admin API and returns the 201 body (with the token). */
export async function createKey(
  fetch: Fetch,
  body: Record<string, unknown> = {},
): Promise<KeyJson & { key: string }> {
  const res = await fetch("/admin/keys", adminJson("POST", { tenant: uniqueTenant(), ...body }));
  if (res.status !== 201) throw new Error(`create key: ${res.status} ${await res.text()}`);
  return (await res.json()) as KeyJson & { key: string };
}

/** Bearer headers for an API key. */
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A tenant no other test uses: tests share one database and one Redis. */
export function uniqueTenant(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export function testDb(): Database {
  return createDatabase(bindings.DATABASE_URL as string, bindings.NEON_FETCH_ENDPOINT);
}

export function testRedis(): Redis {
  return new Redis({
    url: bindings.UPSTASH_REDIS_REST_URL as string,
    token: bindings.UPSTASH_REDIS_REST_TOKEN as string,
  });
}

/** Every column of a tenant's api_keys rows, as Postgres stores them (text, so nothing is reshaped). */
export async function apiKeyRows(tenant: string): Promise<Record<string, unknown>[]> {
  const result = await testDb().execute(
    sql`select * from api_keys where tenant = ${tenant} order by created_at`,
  );
  return result.rows as Record<string, unknown>[];
}

/** Every column of a tenant's usage rows. */
export async function usageRows(tenant: string): Promise<Record<string, unknown>[]> {
  const result = await testDb().execute(sql`select * from usage_events where tenant = ${tenant}`);
  return result.rows as Record<string, unknown>[];
}

/** A chat call to a model the dev config routes to the mock provider. */
export function chat(key: string, model = "gpt-4o-mini"): RequestInit {
  return {
    method: "POST",
    headers: { ...bearer(key), "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 16 }),
  };
}
