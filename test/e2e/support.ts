import { env } from "cloudflare:workers";
import type OpenAI from "openai";
import { importSigningKey, mintKey } from "../../src/auth";
import { MOCK_URL, openaiClient, post, type TestGateway } from "../support/gateway";

/**
 * A key of its own tenant on the enterprise plan: these suites make many calls, and the shared
 * demo key's free-plan rate must stay for the suites that run after them.
 */
export async function e2eKey(): Promise<string> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `e2e-${crypto.randomUUID()}`;
  const { token } = await mintKey(
    signer,
    { tenant, name: "e2e", plan: "enterprise" },
    { issuer: "sluice", audience: "sluice" },
  );
  return token;
}

/** This test file's own key (each file loads its own copy of this module). */
export const E2E_KEY = await e2eKey();

/** POST JSON with this file's key. */
export const postJson = (body: unknown, headers: Record<string, string> = {}): RequestInit =>
  post(body, E2E_KEY, headers);

/** The two translated upstreams of the dev config, as routes a test gateway serves. */
export const TRANSLATED_ROUTES = {
  "claude-sonnet-4-5": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
  "gemini-2.5-flash": { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash" }] },
};

export const TRANSLATED_MODELS = ["claude-sonnet-4-5", "gemini-2.5-flash"] as const;

/** Which mock provider serves a public model, for routes built from one of them. */
export const PROVIDER_OF: Record<(typeof TRANSLATED_MODELS)[number], string> = {
  "claude-sonnet-4-5": "mock-anthropic",
  "gemini-2.5-flash": "mock-gemini",
};

/** The official SDK, unchanged, served by a test gateway, with this file's key by default. */
export function openaiFor(gw: TestGateway, apiKey: string = E2E_KEY): OpenAI {
  return openaiClient(gw, apiKey);
}

/** A 1x1 PNG, small enough to inline in a data URL. */
export const PIXEL_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

export function isMockUrl(url: string): boolean {
  return url.startsWith(MOCK_URL);
}

/** A streamed tool call, put back together from its deltas. */
export interface AssembledCall {
  index: number;
  id: string;
  name: string;
  arguments: string;
}

/**
 * Reassembles the tool-call deltas of raw chunks by index, the way OpenAI's clients do: the first
 * delta of an index carries id and name, later ones append argument fragments.
 */
export function assembleToolCalls(chunks: OpenAI.ChatCompletionChunk[]): AssembledCall[] {
  const calls = new Map<number, AssembledCall>();
  for (const chunk of chunks) {
    for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
      const call = calls.get(delta.index) ?? { index: delta.index, id: "", name: "", arguments: "" };
      if (delta.id) call.id = delta.id;
      if (delta.function?.name) call.name += delta.function.name;
      call.arguments += delta.function?.arguments ?? "";
      calls.set(delta.index, call);
    }
  }
  return [...calls.values()].sort((a, b) => a.index - b.index);
}

/** name and parsed arguments of function tool calls: what must match between stream and JSON. */
export function callShapes(
  calls: { name: string; arguments: string }[],
): { name: string; arguments: unknown }[] {
  return calls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown }));
}

/** The function tool calls of a JSON answer's first choice. */
export function jsonToolCalls(
  answer: OpenAI.ChatCompletion,
): { id: string; name: string; arguments: string }[] {
  return (answer.choices[0]?.message.tool_calls ?? []).map((call) => {
    if (call.type !== "function") throw new Error(`unexpected tool call type ${call.type}`);
    return { id: call.id, name: call.function.name, arguments: call.function.arguments };
  });
}

export const WEATHER_TOOLS: OpenAI.ChatCompletionTool[] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather for a city",
      parameters: {
        type: "object",
        properties: { city: { type: "string" }, days: { type: "integer" } },
        required: ["city"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "get_time",
      parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
    },
  },
];
