/// <reference types="vite/client" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors";
import { inputItems, ResponsesRequest, responsesRequestToChat } from "../../src/inbound/responses";
import { chatCompletionToResponse, type ResponseFrame } from "../../src/inbound/responses/response";
import { createResponsesEventEncoder } from "../../src/inbound/responses/stream";
import type { TokenUsage } from "../../src/providers";
import { parseSse } from "../providers/support";

/**
 * The Responses API's translated direction, as data: every JSON file under
 * test/providers/fixtures/responses-inbound/ is one case (request to chat, chat answer to a
 * Response, chat chunks to Responses events), in the style of the provider conformance suite.
 */
const FILES = import.meta.glob("../providers/fixtures/responses-inbound/*.json", {
  eager: true,
  import: "default",
}) as Record<string, Fixture>;

type Fixture = { kind: string; description: string } & Record<string, unknown>;

interface StreamFixture {
  request: Record<string, unknown>;
  input: unknown[];
  usage: TokenUsage | null;
  cost: number;
  fail?: { message: string; type: string; code: string | null; param: string | null };
  expected: { event: string; data: unknown }[];
  expectedStored: unknown;
}

const frameOf = (request: Record<string, unknown>): ResponseFrame => ({
  id: "resp_0123456789abcdef0123456789abcdef",
  createdAt: 1700000000,
  model: String(request.model),
  request: ResponsesRequest.parse(request),
});

const translate = (input: unknown) => {
  const body = ResponsesRequest.parse(input);
  return responsesRequestToChat(body, inputItems(body.input));
};

it("finds fixtures of every kind", () => {
  const kinds = new Set(Object.values(FILES).map((f) => f.kind));
  expect([...kinds].sort()).toEqual([
    "inbound-request",
    "inbound-request-error",
    "inbound-response",
    "inbound-stream",
  ]);
});

describe("responses-inbound", () => {
  for (const [path, fixture] of Object.entries(FILES).sort(([a], [b]) => a.localeCompare(b))) {
    const title = `${path.split("/").at(-1)}: ${fixture.description}`;
    switch (fixture.kind) {
      case "inbound-request":
        it(title, () => expect(translate(fixture.input)).toEqual(fixture.expected));
        break;
      case "inbound-request-error":
        it(title, () => {
          let thrown: unknown;
          try {
            translate(fixture.input);
          } catch (err) {
            thrown = err;
          }
          expect(thrown).toBeInstanceOf(GatewayError);
          const error = thrown as GatewayError;
          expect({ status: error.status, code: error.code, param: error.param }).toEqual(
            fixture.expectedError,
          );
        });
        break;
      case "inbound-response":
        it(title, () => {
          const frame = frameOf(fixture.request as Record<string, unknown>);
          expect(chatCompletionToResponse(fixture.input as Record<string, unknown>, frame)).toEqual(
            fixture.expected,
          );
        });
        break;
      case "inbound-stream": {
        const f = fixture as unknown as StreamFixture;
        const chatSse = f.input
          .map((p) => `data: ${typeof p === "string" ? p : JSON.stringify(p)}\n\n`)
          .join("");
        const check = (cuts: number[]) => {
          let stored: unknown = null;
          const encoder = createResponsesEventEncoder(
            frameOf(f.request),
            () => f.cost,
            (r) => {
              stored = r;
            },
          );
          let out = "";
          for (const { data } of parseSse(chatSse, cuts)) out += encoder.push(data, f.usage);
          if (f.fail) out += encoder.fail(f.fail);
          const events = parseSse(out).map(({ event, data }) => ({ event, data: JSON.parse(data) }));
          expect(events).toEqual(f.expected);
          for (const { event, data } of events) expect((data as { type: string }).type).toBe(event);
          expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
          expect(stored).toEqual(f.expectedStored);
        };
        it(title, () => check([]));
        it(`${title} (split at arbitrary byte boundaries)`, () => {
          const max = Math.max(1, new TextEncoder().encode(chatSse).length - 1);
          fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max }), { maxLength: 24 }), check), {
            numRuns: 40,
          });
        });
        break;
      }
      default:
        it(title, () => {
          throw new Error(`unknown fixture kind ${fixture.kind}`);
        });
    }
  }
});
