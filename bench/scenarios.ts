/** The requests the benchmark sends and the gateway config it runs with. */
import { devConfig } from "../local/dev-config";
import type { HttpCall } from "./load";

/** Words (= stream chunks) in the long streaming answer: shows the cost of each relayed chunk. */
export const LONG_STREAM_WORDS = 200;

/** The plan the bench key is on: rate, token, concurrency and budget checks all run, none trips. */
const BENCH_PLAN = {
  rpm: 100_000_000,
  tpm: 1_000_000_000_000,
  concurrency: 4_096,
  budget_usd_day: 1e9,
  budget_usd_month: 1e9,
};

/** The dev config's Anthropic model (its route's target is the mock's Anthropic provider). */
const CLAUDE_MODEL = "claude-sonnet-4-5";

/** The gateway's route to the long Anthropic answer (its provider sends the mock's `x-mock-words`). */
const CLAUDE_LONG_ROUTE = "claude-long";

/**
 * The dev config (every model on the mock) plus `gpt-4o-mini-long` and `claude-long` routes whose
 * providers ask the mock for a long answer, with the bench plan as the only and default plan.
 */
export function benchConfig(mockUrl: string): Record<string, unknown> {
  const base = devConfig(mockUrl) as { providers: Record<string, unknown>; routes: Record<string, unknown> };
  const longWords = { "x-mock-words": String(LONG_STREAM_WORDS) };
  return {
    ...base,
    providers: {
      ...base.providers,
      "mock-openai-long": {
        kind: "openai",
        base_url: `${mockUrl}/v1`,
        api_key_secret: "MOCK_API_KEY",
        headers: longWords,
      },
      "mock-anthropic-long": { ...(base.providers["mock-anthropic"] as object), headers: longWords },
    },
    routes: {
      ...base.routes,
      "gpt-4o-mini-long": { targets: [{ provider: "mock-openai-long", model: "gpt-4o-mini" }] },
      [CLAUDE_LONG_ROUTE]: { targets: [{ provider: "mock-anthropic-long", model: CLAUDE_MODEL }] },
      // The long chat stream again, forwarded by the runtime (stream_passthrough, as the dev
      // config's PASSTHROUGH_ROUTE for the short one).
      [PASSTHROUGH_LONG_ROUTE]: {
        targets: [{ provider: "mock-openai-long", model: "gpt-4o-mini" }],
        stream_passthrough: true,
      },
      // The same answers as gpt-4o-mini, through the response cache: the cached phase's hits.
      [CACHED_ROUTE]: { ...(base.routes["gpt-4o-mini"] as object), cache: { ttl_seconds: 86_400 } },
    },
    plans: { bench: BENCH_PLAN },
    default_plan: "bench",
    // SLUICE_BENCH_METRICS=off measures the gateway without live metrics, to compare.
    metrics: { enabled: process.env.SLUICE_BENCH_METRICS !== "off" },
    // SLUICE_BENCH_SPECULATION=off decides every admission before dispatching, to compare.
    speculative_admission: { enabled: process.env.SLUICE_BENCH_SPECULATION !== "off" },
  };
}

/** The gateway's routes with `stream_passthrough`: the short (the dev config's) and the long chat stream. */
const PASSTHROUGH_ROUTE = "gpt-4o-mini-passthrough";
const PASSTHROUGH_LONG_ROUTE = "gpt-4o-mini-long-passthrough";

/** The route whose JSON answers the cached phase repeats (all hits after the first). */
export const CACHED_ROUTE = "gpt-4o-mini-cached";

/** The chat requests of a run, for one target. */
export interface ChatCalls {
  json: HttpCall;
  stream: HttpCall;
  longStream: HttpCall;
  /** Gateway only: the JSON call, answered from the response cache. */
  cached?: HttpCall;
  /** Gateway only: the JSON call to the cached route, each request with a body never sent before (every one a miss). */
  cachedMiss?: HttpCall;
  /** Direct, passthrough and gateway: a native Anthropic Messages stream (POST /v1/messages), short. */
  messagesStream?: HttpCall;
  /** The same, LONG_STREAM_WORDS words long. */
  messagesLongStream?: HttpCall;
  /** Gateway only: the chat stream through a `stream_passthrough` route (forwarded by the runtime). */
  passthroughStream?: HttpCall;
  /** The same, LONG_STREAM_WORDS words long. */
  passthroughLongStream?: HttpCall;
}

const MESSAGES = [
  { role: "system", content: "You are the benchmark's assistant." },
  { role: "user", content: "Say hello to the benchmark in a few short words please" },
];

/**
 * Chat requests, the same for every target but for the key and how the long answer is asked for:
 * the gateway through its `gpt-4o-mini-long` route, the others with the mock's header.
 */
export function chatCalls(apiKey: string, viaGateway: boolean): ChatCalls {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const call = (body: Record<string, unknown>, extraHeaders: Record<string, string> = {}): HttpCall => ({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { ...headers, ...extraHeaders },
    body: JSON.stringify({ messages: MESSAGES, ...body }),
    stream: body.stream === true,
  });
  return {
    ...messagesCalls(apiKey, viaGateway),
    json: call({ model: "gpt-4o-mini", max_tokens: 32 }),
    cached: viaGateway ? call({ model: CACHED_ROUTE, max_tokens: 32, temperature: 0 }) : undefined,
    cachedMiss: viaGateway
      ? uniqueBodies(call({ model: CACHED_ROUTE, max_tokens: 32, temperature: 0 }))
      : undefined,
    stream: call({ model: "gpt-4o-mini", max_tokens: 32, stream: true }),
    passthroughStream: viaGateway
      ? call({ model: PASSTHROUGH_ROUTE, max_tokens: 32, stream: true })
      : undefined,
    passthroughLongStream: viaGateway
      ? call({ model: PASSTHROUGH_LONG_ROUTE, max_tokens: 2 * LONG_STREAM_WORDS, stream: true })
      : undefined,
    longStream: viaGateway
      ? call({ model: "gpt-4o-mini-long", max_tokens: 2 * LONG_STREAM_WORDS, stream: true })
      : call(
          { model: "gpt-4o-mini", max_tokens: 2 * LONG_STREAM_WORDS, stream: true },
          { "x-mock-words": String(LONG_STREAM_WORDS) },
        ),
  };
}

/**
 * Native Anthropic Messages streams (the gateway relays them through the runtime, no JS per
 * chunk): the chat's messages with the system prompt where Anthropic wants it, the key in
 * `x-api-key` (the mock takes any) and the `anthropic-version` the API requires. The long one goes
 * through the gateway's `claude-long` route, or sends the mock's header.
 */
function messagesCalls(
  apiKey: string,
  viaGateway: boolean,
): Pick<ChatCalls, "messagesStream" | "messagesLongStream"> {
  const [system, ...rest] = MESSAGES;
  const headers = {
    "x-api-key": apiKey,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
  };
  const call = (model: string, maxTokens: number, extraHeaders: Record<string, string> = {}): HttpCall => ({
    method: "POST",
    path: "/v1/messages",
    headers: { ...headers, ...extraHeaders },
    body: JSON.stringify({
      model,
      max_tokens: maxTokens,
      system: system?.content,
      messages: rest,
      stream: true,
    }),
    stream: true,
    finalEvent: "event: message_stop",
  });
  return {
    messagesStream: call(CLAUDE_MODEL, 32),
    messagesLongStream: viaGateway
      ? call(CLAUDE_LONG_ROUTE, 2 * LONG_STREAM_WORDS)
      : call(CLAUDE_MODEL, 2 * LONG_STREAM_WORDS, { "x-mock-words": String(LONG_STREAM_WORDS) }),
  };
}

/**
 * The call with a body no request sent before each time it is read (the user message ends with a
 * run id and a sequence number): a miss on a cached route every time, with the lookup, the
 * assembly and the store all done. Unique bodies rather than `x-sluice-cache: refresh`, which
 * would skip the lookup: this is what a real miss costs.
 */
function uniqueBodies(call: HttpCall): HttpCall {
  const fixed = JSON.parse(call.body as string) as { messages: { role: string; content: string }[] };
  const run = crypto.randomUUID().slice(0, 8);
  let seq = 0;
  return {
    ...call,
    get body() {
      seq += 1;
      const messages = fixed.messages.map((m, i) =>
        i === fixed.messages.length - 1 ? { ...m, content: `${m.content} (${run}-${seq})` } : m,
      );
      return JSON.stringify({ ...fixed, messages });
    },
  };
}

/** SSE events in a stream body (`data:` lines), to relate CPU time to chunks relayed. */
export function countEvents(body: string): number {
  return body.split("\n").filter((line) => line.startsWith("data:")).length;
}
