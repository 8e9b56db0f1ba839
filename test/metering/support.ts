import { env } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { sql } from "drizzle-orm";
import { createDatabase, type Database } from "../../src/db";
import type { UsageRecord } from "../../src/metering";
import { ZERO_USAGE } from "../../src/providers/types";

/** Bindings the global setup hands to the worker (real Postgres behind the local Neon endpoint, real Redis). */
const bindings = env as unknown as Record<string, string>;

export function testDb(): Database {
  return createDatabase(bindings.DATABASE_URL as string, bindings.NEON_FETCH_ENDPOINT);
}

export function testRedis(): Redis {
  return new Redis({
    url: bindings.UPSTASH_REDIS_REST_URL as string,
    token: bindings.UPSTASH_REDIS_REST_TOKEN as string,
  });
}

/** Calls the stack's control endpoint (e.g. "postgres/down"). */
export async function control(action: string): Promise<void> {
  const res = await fetch(`${bindings.SLUICE_TEST_CONTROL_URL}/${action}`, { method: "POST" });
  if (!res.ok) throw new Error(`control ${action} failed: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

/** A tenant no other test uses, so each test reads back only its own rows. */
export function uniqueTenant(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A complete record with overridable fields. */
export function makeRecord(overrides: Partial<UsageRecord> = {}): UsageRecord {
  return {
    requestId: crypto.randomUUID(),
    clientRequestId: null,
    tenant: "t",
    keyId: "k",
    endpoint: "chat",
    requestedModel: "gpt-4.1",
    provider: "openai",
    upstreamModel: "gpt-4.1",
    stream: false,
    status: 200,
    errorCode: null,
    usage: { ...ZERO_USAGE, promptTokens: 100, completionTokens: 20 },
    usageSource: "provider",
    latencyMs: 120,
    ttfbMs: 80,
    attempts: 1,
    tags: null,
    createdAt: new Date(),
    ...overrides,
  };
}

/** Every column of a tenant's rows, as Postgres stores them. */
export async function rowsOf(db: Database, tenant: string): Promise<Record<string, unknown>[]> {
  const result = await db.execute(
    sql`select *, cost_usd::text as cost_text from usage_events where tenant = ${tenant} order by request_id`,
  );
  return result.rows as Record<string, unknown>[];
}

export async function countOf(db: Database, tenant: string): Promise<{ rows: number; distinct: number }> {
  const result = await db.execute(
    sql`select count(*)::int as rows, count(distinct request_id)::int as uniq from usage_events where tenant = ${tenant}`,
  );
  const row = result.rows[0] as { rows: number; uniq: number };
  return { rows: Number(row.rows), distinct: Number(row.uniq) };
}
