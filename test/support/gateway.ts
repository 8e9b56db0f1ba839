import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import OpenAI from "openai";
import { createApp } from "../../src/app";
import { createServices, type ServiceOverrides, type Services } from "../../src/services";

export const MOCK_URL: string = env.MOCK_PROVIDER_URL;
export const DEMO_KEY: string = env.SLUICE_DEMO_KEY;

/** The dev config's providers, all pointing at the mock provider. */
export const mockProviders = {
  mock: { kind: "openai", base_url: `${MOCK_URL}/v1`, api_key_secret: "MOCK_API_KEY" },
  "mock-b": { kind: "openai", base_url: `${MOCK_URL}/v1`, api_key_secret: "MOCK_API_KEY" },
  "mock-anthropic": { kind: "anthropic", base_url: MOCK_URL, api_key_secret: "MOCK_API_KEY" },
  "mock-gemini": { kind: "gemini", base_url: `${MOCK_URL}/v1beta`, api_key_secret: "MOCK_API_KEY" },
};

export interface TestGateway {
  services: Services;
  /** Calls the worker and waits for everything it left in waitUntil (settlement, usage rows). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Calls the worker and returns at once; `settled` resolves when its waitUntil work is done. */
  start(path: string, init?: RequestInit): Promise<{ response: Response; settled: Promise<void> }>;
}

/**
 * A gateway built in the test's isolate with its own config and overrides (clock, sleep, fetch),
 * served by the real app against the real local stack.
 * @example const gw = gateway({ routes: { m: { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } } })
 */
export function gateway(config: Record<string, unknown> = {}, overrides: ServiceOverrides = {}): TestGateway {
  const testEnv = { ...env, SLUICE_CONFIG: JSON.stringify({ providers: mockProviders, ...config }) };
  const services = createServices(testEnv, overrides);
  const app = createApp(services);
  const start = async (path: string, init?: RequestInit) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`http://sluice.test${path}`, init), testEnv, ctx);
    return { response, settled: waitOnExecutionContext(ctx) };
  };
  return {
    services,
    start,
    async fetch(path, init) {
      const { response, settled } = await start(path, init);
      // Streams settle only once read; callers of fetch() read JSON answers.
      if (!response.headers.get("content-type")?.includes("event-stream")) await settled;
      return response;
    },
  };
}

/** POST JSON with the demo key (or another key). */
export function post(
  body: unknown,
  key: string = DEMO_KEY,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** What the mock provider received (and whether the gateway cancelled it). */
export async function upstreamRequests(): Promise<
  {
    path: string;
    body: Record<string, unknown>;
    headers: Record<string, string>;
    cancelled: boolean;
    completed: boolean;
  }[]
> {
  return (await fetch(`${MOCK_URL}/__mock/requests`)).json();
}

/** What the mock received, once its first request was cancelled (or after ~1 s, as it then stands). */
export async function upstreamOnceCancelled(): ReturnType<typeof upstreamRequests> {
  let recorded = await upstreamRequests();
  for (let i = 0; i < 50 && !recorded[0]?.cancelled; i++) {
    await new Promise((r) => setTimeout(r, 20));
    recorded = await upstreamRequests();
  }
  return recorded;
}

export async function clearUpstream(): Promise<void> {
  await fetch(`${MOCK_URL}/__mock/clear`, { method: "POST" });
}

/** Reads an SSE body into its `data:` payloads. */
export async function readSse(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .map((frame) => frame.trim())
    .filter((frame) => frame.startsWith("data: "))
    .map((frame) => frame.slice("data: ".length));
}

/**
 * The official `openai` SDK, unchanged, served by a test gateway: its fetch goes straight to the
 * app in this isolate (streams are read where they were made).
 * @example const client = openaiClient(gw, key); await client.responses.create({ model, input: "Hi" })
 */
export function openaiClient(gw: Pick<TestGateway, "fetch">, apiKey: string): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: "http://sluice.test/v1",
    maxRetries: 0,
    fetch: async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      return gw.fetch(url.pathname + url.search, init);
    },
  });
}
