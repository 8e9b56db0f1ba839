import { afterEach, describe, expect, it } from "vitest";
import {
  createUsageWriter,
  DEAD_LETTER_KEY,
  type DeadLetter,
  deserializeRow,
  flushSpool,
  readSpoolEntry,
  SPOOL_KEY,
  spoolRows,
  toUsageRow,
} from "../../src/metering";
import { insertUsageRows } from "../../src/metering/insert";
import { control, countOf, makeRecord, rowsOf, testDb, testRedis, uniqueTenant } from "./support";

const db = testDb();
const redis = testRedis();

/** Spooled rows of one tenant (the list is shared with any other test that spools). */
async function spooledOf(tenant: string): Promise<string[]> {
  const items = await redis.lrange<unknown>(SPOOL_KEY, 0, -1);
  return items.map(deserializeRow).flatMap((row) => (row && row.tenant === tenant ? [row.requestId] : []));
}

/** Flushes until this run did the work (another test's flush may hold the lease for a moment). */
async function flushAll(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const result = await flushSpool(db, redis);
    if (!result.skipped && result.remaining === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the spool did not drain");
}

describe("usage spool", () => {
  afterEach(async () => {
    await control("postgres/up");
  });

  it("Postgres down during 200 records: all spooled, then flushed to exactly 200 rows", async () => {
    const tenant = uniqueTenant("outage");
    const logs: string[] = [];
    const writer = createUsageWriter({
      db,
      redis,
      log: (level, message) => logs.push(`${level}: ${message}`),
      retryDelaysMs: [10, 20],
      maxBatchRows: 50,
    });
    const records = Array.from({ length: 200 }, (_, i) =>
      makeRecord({
        tenant,
        usage: {
          promptTokens: i,
          completionTokens: 1,
          cachedReadTokens: 0,
          cacheWriteTokens: 0,
          reasoningTokens: 0,
        },
      }),
    );

    await control("postgres/down");
    await Promise.all(records.map((r) => writer.record(r, { picoUsd: BigInt(r.usage.promptTokens) })));
    const spooled = await spooledOf(tenant);
    expect(spooled.sort()).toEqual(records.map((r) => r.requestId).sort());
    expect(logs).toContain("warn: usage insert failed, spooling");
    expect(logs.filter((l) => l.startsWith("error"))).toEqual([]);

    await control("postgres/up");
    await flushAll();
    expect(await countOf(db, tenant)).toEqual({ rows: 200, distinct: 200 });
    expect(await spooledOf(tenant)).toEqual([]);
    // Costs survived the round trip through Redis exactly.
    const rows = await rowsOf(db, tenant);
    const pico = rows.map((r) => BigInt(String(r.cost_text).replace(".", ""))).reduce((a, b) => a + b, 0n);
    expect(pico).toBe(BigInt((199 * 200) / 2));
  });

  it("a flush that died after inserting but before trimming doubles nothing on the next run", async () => {
    const tenant = uniqueTenant("crash");
    const rows = Array.from({ length: 30 }, () => toUsageRow(makeRecord({ tenant }), { picoUsd: 1n }));
    expect(await spoolRows(redis, rows)).toBe(0);
    // The crashed run: its INSERT landed (for the first 20), its LTRIM never ran.
    await insertUsageRows(db, rows.slice(0, 20));

    await flushAll();
    expect(await countOf(db, tenant)).toEqual({ rows: 30, distinct: 30 });
  });

  it("a flush while Postgres is still down keeps every row spooled", async () => {
    const tenant = uniqueTenant("still-down");
    const rows = Array.from({ length: 5 }, () => toUsageRow(makeRecord({ tenant }), null));
    await spoolRows(redis, rows);
    await control("postgres/down");
    await expect(flushSpool(db, redis)).rejects.toThrow();
    expect((await spooledOf(tenant)).length).toBe(5);
    // An outage is nobody's fault: no entry is charged a failed flush for it.
    const entries = (await redis.lrange<unknown>(SPOOL_KEY, 0, -1)).map(readSpoolEntry);
    expect(entries.every((entry) => entry?.flushFailures === 0)).toBe(true);
    await control("postgres/up");
    await flushAll();
    expect(await countOf(db, tenant)).toEqual({ rows: 5, distinct: 5 });
    expect((await rowsOf(db, tenant)).every((r) => r.unpriced === true && r.cost_usd === null)).toBe(true);
  });

  it("a row Postgres refuses goes to the dead-letter list instead of blocking the spool", async () => {
    const tenant = uniqueTenant("poison");
    const good = toUsageRow(makeRecord({ tenant }), { picoUsd: 1n });
    // Cost beyond numeric(20,12): Postgres refuses it (22003), whatever the retries.
    const bad = toUsageRow(makeRecord({ tenant }), { picoUsd: 10n ** 40n });
    await spoolRows(redis, [good, bad]);
    await flushAll();
    const stored = await rowsOf(db, tenant);
    expect(stored.map((r) => r.request_id)).toEqual([good.requestId]);
    const dead = await redis.lrange<DeadLetter>(DEAD_LETTER_KEY, 0, -1);
    const letter = dead.find((d) => (d.row as { requestId?: string }).requestId === bad.requestId);
    expect(letter?.reason).toMatch(/^22003: numeric field overflow/);
    expect(letter?.row).toMatchObject({ tenant, costUsd: bad.costUsd });
  });

  it("the spool is bounded: rows past the bound are refused, not pushed", async () => {
    const tenant = uniqueTenant("bound");
    const rows = Array.from({ length: 5 }, () => toUsageRow(makeRecord({ tenant }), null));
    const length = await redis.llen(SPOOL_KEY);
    expect(await spoolRows(redis, rows, length + 3)).toBe(2);
    expect((await spooledOf(tenant)).length).toBe(3);
    await flushAll();
  });
});
