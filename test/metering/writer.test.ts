import { neonConfig } from "@neondatabase/serverless";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { costOf, createPriceBook, createUsageWriter } from "../../src/metering";
import { countOf, makeRecord, rowsOf, testDb, testRedis, uniqueTenant } from "./support";

const silent = () => {};

/** Counts the usage INSERTs that actually go over HTTP to the Neon endpoint. */
function countInserts(): { count: () => number; restore: () => void } {
  const previous = neonConfig.fetchFunction;
  let inserts = 0;
  neonConfig.fetchFunction = (input: RequestInfo | URL, init?: RequestInit) => {
    // The body is JSON ({query, params}); the SQL inside it names the table in escaped quotes.
    if (typeof init?.body === "string" && /insert into \\"usage_events\\"/i.test(init.body)) inserts++;
    return fetch(input, init);
  };
  return { count: () => inserts, restore: () => (neonConfig.fetchFunction = previous) };
}

describe("usage writer", () => {
  const db = testDb();
  let counter: ReturnType<typeof countInserts>;
  beforeEach(() => {
    counter = countInserts();
  });
  afterEach(() => counter.restore());

  it("stores N concurrent records with ONE multi-row insert, every field as recorded", async () => {
    const tenant = uniqueTenant("batch");
    const writer = createUsageWriter({ db, redis: null, log: silent });
    const price = createPriceBook().lookup("openai", "gpt-4.1");
    if (!price) throw new Error("gpt-4.1 has a default price");
    const records = Array.from({ length: 40 }, (_, i) =>
      makeRecord({
        tenant,
        keyId: `key-${i % 3}`,
        stream: i % 2 === 0,
        usage: {
          promptTokens: 1_000 + i,
          completionTokens: 10 * i,
          cachedReadTokens: i,
          cacheWriteTokens: 0,
          reasoningTokens: i % 5,
        },
        tags: i % 4 === 0 ? { team: "search", "odd,key": 'va"l' } : null,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      }),
    );

    await Promise.all(records.map((r) => writer.record(r, costOf(price, r.usage))));

    expect(counter.count()).toBe(1);
    const rows = await rowsOf(db, tenant);
    expect(rows).toHaveLength(40);
    const byId = new Map(rows.map((row) => [row.request_id, row]));
    for (const r of records) {
      const row = byId.get(r.requestId);
      expect(row).toMatchObject({
        key_id: r.keyId,
        stream: r.stream,
        prompt_tokens: r.usage.promptTokens,
        completion_tokens: r.usage.completionTokens,
        cached_read_tokens: r.usage.cachedReadTokens,
        reasoning_tokens: r.usage.reasoningTokens,
        usage_source: "provider",
        unpriced: false,
        tags: r.tags,
      });
      // (prompt - cached) x 2,000,000 + cached x 500,000 + completion x 8,000,000 picodollars, as exact decimal
      const pico =
        BigInt(r.usage.promptTokens - r.usage.cachedReadTokens) * 2_000_000n +
        BigInt(r.usage.cachedReadTokens) * 500_000n +
        BigInt(r.usage.completionTokens) * 8_000_000n;
      expect(row?.cost_text).toBe(`${pico / 10n ** 12n}.${(pico % 10n ** 12n).toString().padStart(12, "0")}`);
      expect(new Date(String(row?.created_at)).getTime()).toBe(r.createdAt.getTime());
    }
  });

  it("splits a burst larger than the batch size into full batches", async () => {
    const tenant = uniqueTenant("split");
    const writer = createUsageWriter({ db, redis: null, log: silent, maxBatchRows: 10 });
    await Promise.all(
      Array.from({ length: 25 }, () => writer.record(makeRecord({ tenant }), { picoUsd: 1n })),
    );
    expect(counter.count()).toBe(3);
    expect(await countOf(db, tenant)).toEqual({ rows: 25, distinct: 25 });
  });

  it("is idempotent on request_id: a repeated record leaves the first row untouched", async () => {
    const tenant = uniqueTenant("idem");
    const writer = createUsageWriter({ db, redis: null, log: silent });
    const first = makeRecord({ tenant, status: 200 });
    await writer.record(first, { picoUsd: 5n });
    // Same request again, in a later batch and twice within one batch.
    const again = { ...first, status: 500 };
    await Promise.all([writer.record(again, { picoUsd: 7n }), writer.record(again, { picoUsd: 7n })]);
    const rows = await rowsOf(db, tenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 200, cost_text: "0.000000000005" });
  });

  it("an unpriced model is stored with a null cost and flagged, never as $0, and warned about once", async () => {
    const tenant = uniqueTenant("unpriced");
    const warnings: unknown[] = [];
    const writer = createUsageWriter({
      db,
      redis: null,
      log: (level, message, fields) => {
        if (level === "warn") warnings.push({ message, fields });
      },
    });
    const record = () => makeRecord({ tenant, provider: "local", upstreamModel: "mystery-1" });
    await Promise.all([writer.record(record(), null), writer.record(record(), null)]);
    const rows = await rowsOf(db, tenant);
    expect(rows.map((r) => [r.cost_usd, r.unpriced])).toEqual([
      [null, true],
      [null, true],
    ]);
    expect(warnings).toEqual([
      { message: expect.stringContaining("no price"), fields: { model: "local/mystery-1" } },
    ]);
  });

  it("flush() sends the open batch without waiting for the window", async () => {
    const tenant = uniqueTenant("flush");
    const writer = createUsageWriter({ db, redis: testRedis(), log: silent, batchWindowMs: 60_000 });
    const pending = writer.record(makeRecord({ tenant }), { picoUsd: 0n });
    await writer.flush();
    await pending;
    expect(await countOf(db, tenant)).toEqual({ rows: 1, distinct: 1 });
  });
});
