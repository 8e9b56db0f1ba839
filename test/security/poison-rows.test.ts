import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import type { Database } from "../../src/db";
import {
  createUsageWriter,
  DEAD_LETTER_KEY,
  type DeadLetter,
  type FlushSpoolResult,
  flushSpool,
  MAX_FLUSH_FAILURES,
  readSpoolEntry,
  SPOOL_KEY,
  serializeRow,
  spoolRows,
  toUsageRow,
  type UsageRow,
} from "../../src/metering";
import { countOf, makeRecord, rowsOf, testDb, testRedis, uniqueTenant } from "../metering/support";
import { gateway, post } from "../support/gateway";

// A row Postgres refuses for its content never sinks its batch or the spool: the batch is split
// until the row stands alone, the rest is stored, the row goes to the dead-letter list with the
// reason. (This is the only file of the `worker` project that flushes the spool.)

const db = testDb();
const redis = testRedis();
const silent = () => {};

/** A random printable string: incompressible, so an index has to hold all of it. */
function noise(length: number): string {
  return Array.from({ length }, () => String.fromCharCode(0x21 + Math.floor(Math.random() * 94))).join("");
}

/** Dead letters whose row (or raw text) belongs to `tenant`. */
async function deadLettersOf(tenant: string): Promise<DeadLetter[]> {
  const items = await redis.lrange<unknown>(DEAD_LETTER_KEY, 0, -1);
  return items
    .map((item) => (typeof item === "string" ? JSON.parse(item) : item) as DeadLetter)
    .filter((letter) =>
      typeof letter.row === "string"
        ? letter.row.includes(tenant)
        : (letter.row as { tenant?: unknown }).tenant === tenant,
    );
}

/** Spool entries of `tenant`, in list order. */
async function spooledOf(tenant: string): Promise<{ requestId: string; flushFailures: number }[]> {
  const items = await redis.lrange<unknown>(SPOOL_KEY, 0, -1);
  return items.flatMap((item) => {
    const entry = readSpoolEntry(item);
    return entry?.row.tenant === tenant
      ? [{ requestId: entry.row.requestId, flushFailures: entry.flushFailures }]
      : [];
  });
}

/** One flush run; retried only while another run of this file still holds the lease. */
async function flushOnce(database: Database = db): Promise<FlushSpoolResult> {
  for (let i = 0; i < 100; i++) {
    const result = await flushSpool(database, redis);
    if (!result.skipped) return result;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the flush lease never came free");
}

/** Puts entries at the head of the spool, as if an earlier outage had left them there. */
async function spoolAtHead(rows: UsageRow[]): Promise<void> {
  await redis.eval(
    "for i = #ARGV, 1, -1 do redis.call('LPUSH', KEYS[1], ARGV[i]) end return #ARGV",
    [SPOOL_KEY],
    rows.map((row) => serializeRow(row)),
  );
}

/**
 * The real database behind a driver that fails, without a SQLSTATE (as an HTTP error or a
 * timeout would), every statement `fails` picks.
 */
function failingDb(fails: (text: string, params: unknown[]) => boolean): Database {
  const real = (db as unknown as { $client: { query(text: string, params: unknown[]): Promise<unknown> } })
    .$client;
  return {
    $client: {
      query: (text: string, params: unknown[]) =>
        fails(text, params)
          ? Promise.reject(new Error("HTTP 507: upstream gave up"))
          : real.query(text, params),
    },
  } as unknown as Database;
}

describe("poison rows in the writer", () => {
  it("a row with a NUL byte among 200: 199 rows stored, 1 dead letter with its reason", async () => {
    const tenant = uniqueTenant("nul");
    const logs: string[] = [];
    const writer = createUsageWriter({
      db,
      redis,
      log: (level, message) => logs.push(`${level}: ${message}`),
    });
    const records = Array.from({ length: 200 }, (_, i) =>
      makeRecord({ tenant, requestedModel: i === 137 ? "gpt-4.1\u0000evil" : "gpt-4.1" }),
    );

    await Promise.all(records.map((r) => writer.record(r, { picoUsd: 1n })));

    expect(await countOf(db, tenant)).toEqual({ rows: 199, distinct: 199 });
    const dead = await deadLettersOf(tenant);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.row).toMatchObject({
      requestId: records[137]?.requestId,
      requestedModel: "gpt-4.1\u0000evil",
    });
    expect(dead[0]?.reason).toMatch(/^22021: invalid byte sequence/);
    expect(Number.isNaN(Date.parse(String(dead[0]?.at)))).toBe(false);
    expect(await spooledOf(tenant)).toEqual([]);
    expect(logs).toContain("error: usage rows refused by Postgres, moved to dead letter");
  });

  it("an indexed value too large for the index among 200: the rest stored, the row dead-lettered (54000)", async () => {
    const tenant = uniqueTenant("huge-key");
    const writer = createUsageWriter({ db, redis, log: silent });
    const records = Array.from({ length: 200 }, (_, i) =>
      makeRecord({ tenant, keyId: i === 0 ? noise(3_200) : `key-${i % 3}` }),
    );

    await Promise.all(records.map((r) => writer.record(r, null)));

    expect(await countOf(db, tenant)).toEqual({ rows: 199, distinct: 199 });
    const dead = await deadLettersOf(tenant);
    expect(dead.map((d) => (d.row as { requestId: string }).requestId)).toEqual([records[0]?.requestId]);
    expect(dead[0]?.reason).toMatch(/^54000: index row size/);
  });

  it("several poison rows in one batch are each isolated", async () => {
    const tenant = uniqueTenant("many");
    const writer = createUsageWriter({ db, redis, log: silent });
    const bad = new Set([3, 4, 90, 199]);
    const records = Array.from({ length: 200 }, (_, i) =>
      makeRecord({ tenant, upstreamModel: bad.has(i) ? "\u0000" : "gpt-4.1" }),
    );
    await Promise.all(records.map((r) => writer.record(r, null)));
    expect(await countOf(db, tenant)).toEqual({ rows: 196, distinct: 196 });
    expect(await deadLettersOf(tenant)).toHaveLength(4);
  });
});

describe("poison entries in the spool", () => {
  it("a poison entry at the head among good ones: good ones stored, the bad one dead-lettered, nothing left", async () => {
    const tenant = uniqueTenant("spool-head");
    const poison = toUsageRow(makeRecord({ tenant, provider: "open\u0000ai" }), { picoUsd: 1n });
    const good = Array.from({ length: 30 }, () => toUsageRow(makeRecord({ tenant }), { picoUsd: 1n }));
    await spoolAtHead([poison, ...good]);

    const run = await flushOnce();

    expect(run.deadLettered).toBeGreaterThanOrEqual(1);
    expect(await countOf(db, tenant)).toEqual({ rows: 30, distinct: 30 });
    const dead = await deadLettersOf(tenant);
    expect(dead.map((d) => (d.row as { requestId: string }).requestId)).toEqual([poison.requestId]);
    expect(dead[0]?.reason).toMatch(/^22021: /);
    expect(await spooledOf(tenant)).toEqual([]);
  });

  it("an entry that is not a row is dead-lettered as text, not dropped and not blocking", async () => {
    const tenant = uniqueTenant("malformed");
    const good = toUsageRow(makeRecord({ tenant }), null);
    await redis.eval("redis.call('LPUSH', KEYS[1], ARGV[1]) return 1", [SPOOL_KEY], [`{not json ${tenant}`]);
    await spoolRows(redis, [good]);

    await flushOnce();

    expect(await countOf(db, tenant)).toEqual({ rows: 1, distinct: 1 });
    expect(await deadLettersOf(tenant)).toMatchObject([
      { row: `{not json ${tenant}`, reason: "malformed spool entry" },
    ]);
  });

  it(`an entry that keeps failing on its own goes back to the tail, then to dead letter after ${MAX_FLUSH_FAILURES} runs`, async () => {
    const tenant = uniqueTenant("sticky");
    const sticky = toUsageRow(makeRecord({ tenant }), null);
    const good = Array.from({ length: 10 }, () => toUsageRow(makeRecord({ tenant }), null));
    await spoolAtHead([sticky, ...good]);
    // Any statement carrying the sticky row fails without a SQLSTATE; Postgres itself answers.
    const flaky = failingDb((_, params) => params.includes(sticky.requestId));

    const first = await flushOnce(flaky);
    expect(first.requeued).toBe(1);
    expect(await countOf(db, tenant)).toEqual({ rows: 10, distinct: 10 });
    expect(await spooledOf(tenant)).toEqual([{ requestId: sticky.requestId, flushFailures: 1 }]);

    for (let run = 2; run < MAX_FLUSH_FAILURES; run++) await flushOnce(flaky);
    expect(await spooledOf(tenant)).toEqual([
      { requestId: sticky.requestId, flushFailures: MAX_FLUSH_FAILURES - 1 },
    ]);
    await flushOnce(flaky);
    expect(await spooledOf(tenant)).toEqual([]);
    const dead = await deadLettersOf(tenant);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.reason).toBe(`failed ${MAX_FLUSH_FAILURES} flushes, last: HTTP 507: upstream gave up`);
  });

  it("while Postgres does not answer, a flush stores nothing, counts nothing and leaves the spool as it was", async () => {
    const tenant = uniqueTenant("down");
    const rows = Array.from({ length: 12 }, () => toUsageRow(makeRecord({ tenant }), null));
    await spoolAtHead(rows);
    const before = await spooledOf(tenant);
    const down = failingDb(() => true);

    await expect(flushSpool(down, redis)).rejects.toThrow("HTTP 507");

    expect(await spooledOf(tenant)).toEqual(before);
    expect(before.every((entry) => entry.flushFailures === 0)).toBe(true);
    expect(await deadLettersOf(tenant)).toEqual([]);
    await flushOnce();
    expect(await countOf(db, tenant)).toEqual({ rows: 12, distinct: 12 });
  });

  it("a schema error (missing table) stops the run and keeps every row spooled", async () => {
    const tenant = uniqueTenant("schema");
    const rows = Array.from({ length: 5 }, () => toUsageRow(makeRecord({ tenant }), null));
    await spoolAtHead(rows);
    const missingTable = {
      $client: {
        query: () =>
          Promise.reject(
            Object.assign(new Error('relation "usage_events" does not exist'), { code: "42P01" }),
          ),
      },
    } as unknown as Database;

    await expect(flushSpool(missingTable, redis)).rejects.toThrow("does not exist");

    expect((await spooledOf(tenant)).map((e) => e.requestId)).toEqual(rows.map((r) => r.requestId));
    expect(await deadLettersOf(tenant)).toEqual([]);
    await flushOnce();
    expect(await countOf(db, tenant)).toEqual({ rows: 5, distinct: 5 });
  });
});

describe("issue 10 acceptance", () => {
  it("a 3 KB x-request-id among 200 concurrent requests of other tenants: every other row stored, spool empty after one cron run", async () => {
    const gw = gateway({
      routes: { "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } },
    });
    const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
    const keyOf = async (tenant: string) =>
      (
        await mintKey(
          signer,
          { tenant, name: tenant, plan: "enterprise" },
          { issuer: "sluice", audience: "sluice" },
        )
      ).token;
    const tenants = [1, 2, 3, 4].map(() => uniqueTenant("crowd"));
    const keys = await Promise.all(tenants.map(keyOf));
    const poisoner = uniqueTenant("poisoner");
    const hello = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }] };
    const calls = Array.from({ length: 200 }, (_, i) =>
      gw.fetch("/v1/chat/completions", post(hello, keys[i % 4], { "x-request-id": `crowd-${i % 7}` })),
    );
    calls.splice(
      100,
      0,
      gw.fetch("/v1/chat/completions", post(hello, await keyOf(poisoner), { "x-request-id": noise(3_200) })),
    );

    const answers = await Promise.all(calls);

    expect(answers.map((res) => res.status).filter((status) => status !== 200)).toEqual([400]);
    const stored = await Promise.all(tenants.map((tenant) => countOf(db, tenant)));
    expect(stored).toEqual(tenants.map(() => ({ rows: 50, distinct: 50 })));
    expect(
      (await rowsOf(db, tenants[0] as string)).every((row) =>
        /^crowd-\d$/.test(String(row.client_request_id)),
      ),
    ).toBe(true);
    expect(await countOf(db, poisoner)).toEqual({ rows: 0, distinct: 0 });

    // The cron path (src/index.ts `scheduled`): one run, and nothing is left.
    const run = await flushOnce();
    expect(run.remaining).toBe(0);
    expect(await redis.llen(SPOOL_KEY)).toBe(0);
  });
});
