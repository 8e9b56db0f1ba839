/// <reference types="vite/client" />
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors";
import {
  anthropicRequestToOpenAI,
  createAnthropicEventEncoder,
  MessagesRequest,
  openAIErrorToAnthropic,
  openAIResponseToAnthropic,
} from "../../src/inbound/anthropic";
import {
  adapterFor,
  type Endpoint,
  type ResponseContext,
  type Target,
  type WireFormat,
} from "../../src/providers";
import { CONTEXT, compactPayload, parseSse, reassemble, replay, type SseText, sseText } from "./support";

/**
 * The conformance suite, as data: every JSON file under fixtures/<provider>/ is one case.
 * Adapter folders (openai, anthropic, gemini) hold request, request-error, response, stream,
 * parity and error cases; anthropic-inbound holds the `/v1/messages` direction.
 */
const FILES = import.meta.glob("./fixtures/**/*.json", { eager: true, import: "default" }) as Record<
  string,
  Fixture
>;

type Fixture = { kind: string; description: string } & Record<string, unknown>;

interface RequestFixture {
  endpoint?: Endpoint;
  stream?: boolean;
  target?: Partial<Target>;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
  expectedUrl?: string;
  expectedHeaders?: Record<string, string>;
}
interface RequestErrorFixture {
  endpoint?: Endpoint;
  stream?: boolean;
  input: Record<string, unknown>;
  expectedError: { status: number; code: string; param?: string | null };
}
interface ResponseFixture {
  endpoint?: Endpoint;
  context?: Partial<ResponseContext>;
  input: unknown;
  expected: Record<string, unknown>;
  expectedUsage: unknown;
}
interface StreamFixture {
  endpoint?: Endpoint;
  input: SseText;
  expected: unknown[];
  expectedComplete: boolean;
  expectedUsage: unknown;
  expectedGeneratedText?: string;
  /** The provider's own mid-stream error, as `upstreamError()` keeps it for the caller. */
  expectedUpstreamError?: unknown;
}
interface ParityFixture {
  json: unknown;
  stream: SseText;
}
interface ErrorFixture {
  status: number;
  input: string;
  expected: unknown;
}

const BASE_URLS: Record<WireFormat, string> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
};
const API_KEY = "sk-fixture-secret";

function targetFor(kind: WireFormat, overrides: Partial<Target> = {}): Target {
  return {
    provider: `test-${kind}`,
    kind,
    baseUrl: BASE_URLS[kind],
    model: "upstream-model",
    apiKey: API_KEY,
    headers: {},
    ...overrides,
  };
}

/** The fixtures of one folder, by file name. */
function fixturesOf(folder: string): [string, Fixture][] {
  return Object.entries(FILES)
    .filter(([path]) => path.startsWith(`./fixtures/${folder}/`))
    .map(([path, fixture]) => [path.slice(`./fixtures/${folder}/`.length), fixture] as [string, Fixture])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** A tool call with its arguments parsed. */
const semantic = (call: unknown) => {
  const c = call as { id: string; type: string; function: { name: string; arguments: string } };
  return {
    id: c.id,
    type: c.type,
    name: c.function.name,
    arguments: JSON.parse(c.function.arguments) as unknown,
  };
};
const actualPayloads = (payloads: string[], expected: unknown[], ctx: ResponseContext) =>
  payloads.map((payload, i) => {
    const want = expected[i];
    // A whole chunk when the fixture gives its `object`, or a Responses event (its `type`).
    const full = typeof want === "object" && want !== null && ("object" in want || "type" in want);
    return compactPayload(payload, ctx, full);
  });

/** Offsets to cut a body at: any set of positions inside it. */
const cutsOf = (body: string) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, new TextEncoder().encode(body).length - 1) }), {
    maxLength: 24,
  });

it("finds fixtures for every provider folder", () => {
  for (const folder of ["openai", "anthropic", "gemini", "anthropic-inbound"]) {
    expect(fixturesOf(folder).length, folder).toBeGreaterThan(3);
  }
});

for (const kind of ["openai", "anthropic", "gemini"] as const) {
  describe(`${kind} adapter`, () => {
    const adapter = adapterFor(kind);

    for (const [file, fixture] of fixturesOf(kind)) {
      const title = `${file}: ${fixture.description}`;
      switch (fixture.kind) {
        case "request": {
          const f = fixture as unknown as RequestFixture;
          it(title, () => {
            const target = targetFor(kind, f.target);
            const request = adapter.buildRequest(f.endpoint ?? "chat", f.input, target, f.stream ?? false);
            expect(JSON.parse(request.init.body ?? "null")).toEqual(f.expected);
            expect(request.init.method).toBe("POST");
            expect(request.init.body).not.toContain(API_KEY);
            expect(request.url).not.toContain(API_KEY);
            if (f.expectedUrl) expect(request.url).toBe(f.expectedUrl);
            if (f.expectedHeaders) expect(request.init.headers).toMatchObject(f.expectedHeaders);
          });
          break;
        }
        case "request-error": {
          const f = fixture as unknown as RequestErrorFixture;
          it(title, () => {
            let thrown: unknown;
            try {
              adapter.buildRequest(f.endpoint ?? "chat", f.input, targetFor(kind), f.stream ?? false);
            } catch (err) {
              thrown = err;
            }
            expect(thrown).toBeInstanceOf(GatewayError);
            const error = thrown as GatewayError;
            expect({ status: error.status, code: error.code }).toEqual({
              status: f.expectedError.status,
              code: f.expectedError.code,
            });
            if (f.expectedError.param !== undefined) expect(error.param).toBe(f.expectedError.param);
          });
          break;
        }
        case "response": {
          const f = fixture as unknown as ResponseFixture;
          it(title, () => {
            const context = { ...CONTEXT, ...f.context };
            const { body, usage } = adapter.parseResponse(f.endpoint ?? "chat", f.input, context);
            expect(body).toEqual(f.expected);
            expect(usage).toEqual(f.expectedUsage);
          });
          break;
        }
        case "stream": {
          const f = fixture as unknown as StreamFixture;
          const body = sseText(f.input);
          const check = (cuts: number[]) => {
            const translator = adapter.streamTranslator(f.endpoint ?? "chat", CONTEXT);
            const run = replay(translator, body, cuts);
            expect(actualPayloads(run.payloads, f.expected, CONTEXT)).toEqual(f.expected);
            expect(run.complete).toBe(f.expectedComplete);
            expect(run.usage).toEqual(f.expectedUsage);
            if (f.expectedGeneratedText !== undefined)
              expect(run.generatedText).toBe(f.expectedGeneratedText);
            expect(translator.upstreamError()).toEqual(f.expectedUpstreamError ?? null);
          };
          it(title, () => check([]));
          // A stream forwarded natively is only metered: the same usage, end, text and error.
          it(`${title} (meterOnly)`, () => {
            const translator = adapter.streamTranslator(f.endpoint ?? "chat", CONTEXT, { meterOnly: true });
            const run = replay(translator, body, []);
            expect(run.complete).toBe(f.expectedComplete);
            expect(run.usage).toEqual(f.expectedUsage);
            if (f.expectedGeneratedText !== undefined)
              expect(run.generatedText).toBe(f.expectedGeneratedText);
            expect(translator.upstreamError()).toEqual(f.expectedUpstreamError ?? null);
          });
          it(`${title} (split at arbitrary byte boundaries)`, () => {
            fc.assert(fc.property(cutsOf(body), check), { numRuns: 60 });
          });
          it(`${title} (one byte at a time)`, () => {
            check(Array.from({ length: new TextEncoder().encode(body).length }, (_, i) => i));
          });
          break;
        }
        case "parity": {
          const f = fixture as unknown as ParityFixture;
          it(title, () => {
            const { body } = adapter.parseResponse("chat", f.json, CONTEXT);
            const run = replay(adapter.streamTranslator("chat", CONTEXT), sseText(f.stream));
            const streamed = reassemble(run.payloads);
            const choices = body.choices as {
              index: number;
              message: { content: string | null; tool_calls?: unknown[] };
              finish_reason: string;
            }[];
            expect(run.complete).toBe(true);
            expect(streamed.size).toBe(choices.length);
            for (const choice of choices) {
              const assembled = streamed.get(choice.index);
              // Arguments compare as JSON: a stream's fragments keep the model's spacing.
              expect(assembled?.toolCalls.map(semantic)).toEqual(
                (choice.message.tool_calls ?? []).map(semantic),
              );
              expect(assembled?.toolCalls.length).toBeGreaterThan(0);
              expect(assembled?.content).toBe(choice.message.content ?? "");
              expect(assembled?.finishReason).toBe(choice.finish_reason);
            }
          });
          break;
        }
        case "error": {
          const f = fixture as unknown as ErrorFixture;
          it(title, () => {
            expect(adapter.parseError(f.status, f.input)).toEqual(f.expected);
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
}

interface InboundStreamFixture {
  requestedModel: string;
  input: unknown[];
  fail?: { status: number; body: unknown };
  expected: { event: string; data: unknown }[];
}

describe("anthropic-compatible inbound", () => {
  for (const [file, fixture] of fixturesOf("anthropic-inbound")) {
    const title = `${file}: ${fixture.description}`;
    switch (fixture.kind) {
      case "inbound-request":
        it(title, () => {
          // The route validates before it translates: fixtures are valid requests.
          expect(anthropicRequestToOpenAI(MessagesRequest.parse(fixture.input))).toEqual(fixture.expected);
        });
        break;
      case "inbound-request-error":
        it(title, () => {
          const expected = fixture.expectedError as { status: number; code: string };
          let thrown: unknown;
          try {
            anthropicRequestToOpenAI(MessagesRequest.parse(fixture.input));
          } catch (err) {
            thrown = err;
          }
          expect(thrown).toBeInstanceOf(GatewayError);
          expect({ status: (thrown as GatewayError).status, code: (thrown as GatewayError).code }).toEqual(
            expected,
          );
        });
        break;
      case "inbound-response":
        it(title, () => {
          expect(openAIResponseToAnthropic(fixture.input, fixture.requestedModel as string)).toEqual(
            fixture.expected,
          );
        });
        break;
      case "inbound-stream": {
        const f = fixture as unknown as InboundStreamFixture;
        const payloads = f.input.map((p) => (typeof p === "string" ? p : JSON.stringify(p)));
        // The payloads as the gateway's relay frames them, to be cut anywhere.
        const openaiSse = payloads.map((p) => `data: ${p}\n\n`).join("");
        const check = (cuts: number[]) => {
          const encoder = createAnthropicEventEncoder(f.requestedModel);
          let out = "";
          for (const { data } of parseSse(openaiSse, cuts)) out += encoder.push(data);
          if (f.fail) out += encoder.fail(f.fail.status, f.fail.body);
          const events = parseSse(out).map(({ event, data }) => ({ event, data: JSON.parse(data) }));
          expect(events).toEqual(f.expected);
          for (const { event, data } of events) expect((data as { type: string }).type).toBe(event);
        };
        it(title, () => check([]));
        it(`${title} (split at arbitrary byte boundaries)`, () => {
          fc.assert(fc.property(cutsOf(openaiSse), check), { numRuns: 60 });
        });
        break;
      }
      case "inbound-error":
        it(title, () => {
          expect(openAIErrorToAnthropic(fixture.status as number, fixture.input)).toEqual(fixture.expected);
        });
        break;
      default:
        it(title, () => {
          throw new Error(`unknown fixture kind ${fixture.kind}`);
        });
    }
  }
});
