import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ledgerEntries, tenants, usageEvents } from "../../src/db/schema";
import { formatUsd } from "../../src/metering/prices";
import { testDb } from "../admin/support";
import { gateway, mockProviders, type TestGateway } from "../support/gateway";
import { adminJson, chatCall, newTenantId, prepaidTenant, thisMonth } from "./support";

type Op =
  | { op: "top_up"; micros: number }
  | { op: "refund"; micros: number }
  | { op: "adjustment"; micros: number }
  | { op: "requests"; count: number; maxTokens: number; model: number };

const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant("top_up" as const), micros: fc.integer({ min: 1, max: 300_000 }) }),
    fc.record({ op: fc.constant("refund" as const), micros: fc.integer({ min: 1, max: 50_000 }) }),
    fc.record({
      op: fc.constant("adjustment" as const),
      micros: fc.integer({ min: -50_000, max: 50_000 }).filter((n) => n !== 0),
    }),
    fc.record({
      op: fc.constant("requests" as const),
      count: fc.integer({ min: 1, max: 4 }),
      maxTokens: fc.integer({ min: 1, max: 60 }),
      model: fc.integer({ min: 0, max: 2 }),
    }),
  ),
  { minLength: 1, maxLength: 10 },
);

interface StatementJson {
  opening_balance_micros: number;
  top_ups_micros: number;
  usage_micros: number;
  refunds_micros: number;
  adjustments_micros: number;
  closing_balance_micros: number;
  lines: { requests: number; billed_micros: number }[];
}

/**
 * A gateway with three routes to the mock: billed at the plan's odd markup (37.37%), at an explicit
 * price with fractional figures, and through a cost multiplier and the markup on top.
 */
function pricedGateway(): { gw: TestGateway; models: string[] } {
  const id = newTenantId();
  const models = [`${id}-a`, `${id}-b`, `${id}-c`];
  const gw = gateway({
    providers: { ...mockProviders, relay: { ...mockProviders.mock, cost_multiplier: 0.137 } },
    routes: {
      [models[0] ?? ""]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], retries: 0 },
      [models[1] ?? ""]: { targets: [{ provider: "mock", model: "gpt-4o-mini" }], retries: 0 },
      [models[2] ?? ""]: { targets: [{ provider: "relay", model: "gpt-4o-mini" }], retries: 0 },
    },
    prices: [
      { model: "gpt-4o-mini", provider: "mock", input: 1000.1, output: 3999.7 },
      { model: "gpt-4o-mini", provider: "relay", input: 1000.1, output: 3999.7 },
    ],
    billing: {
      plans: {
        enterprise: {
          markup: 0.3737,
          prices: [{ model: `${id}-b`, input: 777.777777, output: 3333.333333 }],
        },
      },
    },
  });
  return { gw, models };
}

/** Micro-dollars a tenant's usage rows took, each row's billed price rounded up. */
async function billedMicros(tenant: string): Promise<number> {
  const result = await testDb().execute(
    sql`select coalesce(sum(ceil(billed_usd * 1000000)), 0)::bigint::text as micros
        from usage_events where tenant = ${tenant}`,
  );
  return Number((result.rows[0] as { micros: string }).micros);
}

describe("monthly statements", () => {
  it("add up to the micro-dollar at billed prices, and close at the live and the recorded balance", async () => {
    const { gw, models } = pricedGateway();
    await fc.assert(
      fc.asyncProperty(ops, async (sequence: Op[]) => {
        const { tenant, token } = await prepaidTenant(gw);
        let requests = 0;
        for (const step of sequence) {
          if (step.op === "requests") {
            const batch = await Promise.all(
              Array.from({ length: step.count }, () =>
                gw.fetch("/v1/chat/completions", chatCall(token, models[step.model] ?? "", step.maxTokens)),
              ),
            );
            for (const res of batch) expect([200, 402]).toContain(res.status);
            requests += batch.length;
            continue;
          }
          const path = step.op === "top_up" ? "top-up" : "adjustments";
          const body =
            step.op === "top_up"
              ? { amount_micros: step.micros }
              : { kind: step.op, amount_micros: step.micros, reason: "property test", actor: "vitest" };
          expect((await gw.fetch(`/admin/tenants/${tenant}/${path}`, adminJson("POST", body))).status).toBe(
            201,
          );
        }
        const s = (await (
          await gw.fetch(`/admin/tenants/${tenant}/statement?month=${thisMonth()}`, adminJson("GET"))
        ).json()) as StatementJson;
        const balance = (await (
          await gw.fetch(`/admin/tenants/${tenant}/balance`, adminJson("GET"))
        ).json()) as {
          live_micros: number;
          recorded_micros: number;
        };
        expect(s.opening_balance_micros).toBe(0);
        expect(s.closing_balance_micros).toBe(
          s.opening_balance_micros +
            s.top_ups_micros -
            s.usage_micros +
            s.refunds_micros +
            s.adjustments_micros,
        );
        expect(s.closing_balance_micros).toBe(balance.live_micros);
        expect(s.closing_balance_micros).toBe(balance.recorded_micros);
        expect(s.lines.reduce((sum, l) => sum + l.billed_micros, 0)).toBe(s.usage_micros);
        expect(s.lines.reduce((sum, l) => sum + l.requests, 0)).toBe(requests);
        // Usage is at the billed price, each request rounded up as the gate charged it.
        expect(s.usage_micros).toBe(await billedMicros(tenant));
      }),
      { numRuns: 8 },
    );
  });
});

const MONTH = "2025-03";
const FROM = Date.UTC(2025, 2, 1);
const UNTIL = Date.UTC(2025, 3, 1);
/** The tenant became prepaid mid-January: usage before that never touched its balance. */
const SINCE = Date.UTC(2025, 0, 20);
const instant = fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2025, 4, 1) - 1 });

interface RandomRow {
  at: number;
  model: string | null;
  prompt: number;
  billedPico: bigint | null;
  costPico: bigint | null;
}

const randomRow: fc.Arbitrary<RandomRow> = fc.record({
  at: instant,
  // Hostile and odd names are groups like any other.
  model: fc.constantFrom("gpt-4o-mini", "claude-sonnet-4-5", "__proto__", "<b>x</b>", null),
  prompt: fc.integer({ min: 0, max: 100_000 }),
  // Up to $5, to the picodollar; null billed with a cost: a row from before billed prices.
  billedPico: fc.option(fc.bigInt({ min: 0n, max: 5_000_000_000_000n }), { freq: 8 }),
  costPico: fc.option(fc.bigInt({ min: 0n, max: 5_000_000_000_000n }), { freq: 4 }),
});

const randomEntry = fc.record({
  at: instant,
  kind: fc.constantFrom("top_up", "refund", "adjustment"),
  micros: fc.integer({ min: 1, max: 50_000_000 }),
  negative: fc.boolean(),
});

/** What a row took from the balance: its billed price (else its cost) rounded up to the micro-dollar. */
const takenMicros = (row: RandomRow): bigint => {
  const pico = row.billedPico ?? row.costPico ?? 0n;
  return (pico + 999_999n) / 1_000_000n;
};

describe("monthly statements over thousands of random requests", () => {
  it("hold opening + top-ups − usage + refunds + adjustments = closing, and match every row, to the micro-dollar", async () => {
    const { gw } = pricedGateway();
    await fc.assert(
      fc.asyncProperty(
        fc.array(randomRow, { minLength: 800, maxLength: 1500 }),
        fc.array(randomEntry, { minLength: 1, maxLength: 40 }),
        async (rows, entries) => {
          const { tenant } = await prepaidTenant(gw);
          const db = testDb();
          await db
            .update(tenants)
            .set({ prepaidSince: new Date(SINCE) })
            .where(eq(tenants.id, tenant));
          for (let i = 0; i < rows.length; i += 250) {
            await db.insert(usageEvents).values(
              rows.slice(i, i + 250).map((row) => ({
                requestId: crypto.randomUUID(),
                tenant,
                keyId: "k",
                endpoint: "chat",
                requestedModel: row.model,
                status: 200,
                promptTokens: row.prompt,
                costUsd: row.costPico === null ? null : formatUsd(row.costPico),
                billedUsd: row.billedPico === null ? null : formatUsd(row.billedPico),
                unpriced: row.costPico === null,
                createdAt: new Date(row.at),
              })),
            );
          }
          const signed = entries.map((e) => ({
            ...e,
            amount: e.kind === "adjustment" && e.negative ? -e.micros : e.micros,
          }));
          await db.insert(ledgerEntries).values(
            signed.map((e) => ({
              tenant,
              kind: e.kind,
              amountMicros: e.amount,
              createdAt: new Date(e.at),
            })),
          );

          const s = (await (
            await gw.fetch(`/admin/tenants/${tenant}/statement?month=${MONTH}`, adminJson("GET"))
          ).json()) as StatementJson & { lines: { model: string | null; prompt_tokens: number }[] };

          const counted = (row: RandomRow, from: number, until: number) =>
            row.at >= Math.max(from, SINCE) && row.at < until;
          const usageIn = (from: number, until: number) =>
            rows.filter((r) => counted(r, from, until)).reduce((sum, r) => sum + takenMicros(r), 0n);
          const ledgerIn = (kind: string | null, from: number, until: number) =>
            signed
              .filter((e) => (kind === null || e.kind === kind) && e.at >= from && e.at < until)
              .reduce((sum, e) => sum + BigInt(e.amount), 0n);
          const opening = ledgerIn(null, 0, FROM) - usageIn(0, FROM);
          const expected = {
            opening_balance_micros: opening,
            top_ups_micros: ledgerIn("top_up", FROM, UNTIL),
            usage_micros: usageIn(FROM, UNTIL),
            refunds_micros: ledgerIn("refund", FROM, UNTIL),
            adjustments_micros: ledgerIn("adjustment", FROM, UNTIL),
          };
          for (const [field, value] of Object.entries(expected))
            expect(BigInt(s[field as keyof typeof expected]), field).toBe(value);
          expect(BigInt(s.closing_balance_micros)).toBe(
            opening +
              expected.top_ups_micros -
              expected.usage_micros +
              expected.refunds_micros +
              expected.adjustments_micros,
          );

          const inMonth = rows.filter((r) => counted(r, FROM, UNTIL));
          const byModel = new Map<string | null, { requests: number; micros: bigint; prompt: number }>();
          for (const row of inMonth) {
            const line = byModel.get(row.model) ?? { requests: 0, micros: 0n, prompt: 0 };
            byModel.set(row.model, {
              requests: line.requests + 1,
              micros: line.micros + takenMicros(row),
              prompt: line.prompt + row.prompt,
            });
          }
          expect(s.lines).toHaveLength(byModel.size);
          for (const line of s.lines) {
            const want = byModel.get(line.model);
            expect(want, String(line.model)).toBeDefined();
            expect(line.requests).toBe(want?.requests);
            expect(BigInt(line.billed_micros)).toBe(want?.micros);
            expect(line.prompt_tokens).toBe(want?.prompt);
          }
        },
      ),
      { numRuns: 3 },
    );
  }, 120_000);
});
