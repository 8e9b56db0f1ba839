import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adminJson, billingGateway, chatCall, prepaidTenant, thisMonth } from "./support";

type Op =
  | { op: "top_up"; micros: number }
  | { op: "refund"; micros: number }
  | { op: "adjustment"; micros: number }
  | { op: "requests"; count: number; maxTokens: number };

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

describe("monthly statements", () => {
  it("add up to the micro-dollar, and close at the live and the recorded balance", async () => {
    const { gw, model } = billingGateway();
    await fc.assert(
      fc.asyncProperty(ops, async (sequence: Op[]) => {
        const { tenant, token } = await prepaidTenant(gw);
        let requests = 0;
        for (const step of sequence) {
          if (step.op === "requests") {
            const batch = await Promise.all(
              Array.from({ length: step.count }, () =>
                gw.fetch("/v1/chat/completions", chatCall(token, model, step.maxTokens)),
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
      }),
      { numRuns: 8 },
    );
  });
});
