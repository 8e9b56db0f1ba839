import { env } from "cloudflare:workers";
import type OpenAI from "openai";
import { importSigningKey, mintKey } from "../../src/auth";
import { readResponsesUsage } from "../../src/providers/openai-responses";
import type { Services } from "../../src/services";
import { testGateway } from "../admin/support";
import { MOCK_URL, mockProviders, openaiClient } from "../support/gateway";

/**
 * The routes the Responses API is tested on: an OpenAI-native provider (`responses_api`), a
 * DeepSeek-style chat-only relay, Claude and Gemini (the last three translated through chat).
 */
export const RESPONSES_CONFIG = {
  providers: {
    ...mockProviders,
    "mock-native": {
      kind: "openai",
      base_url: `${MOCK_URL}/v1`,
      api_key_secret: "MOCK_API_KEY",
      responses_api: true,
    },
    "mock-relay": { kind: "openai", base_url: `${MOCK_URL}/v1`, api_key_secret: "MOCK_API_KEY" },
  },
  routes: {
    "gpt-4o-mini": { targets: [{ provider: "mock-native", model: "gpt-4o-mini" }] },
    "deepseek-chat": { targets: [{ provider: "mock-relay", model: "deepseek-chat" }] },
    "claude-sonnet-4-5": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
    "gemini-2.5-flash": { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash" }] },
  },
};

/** Each tested model and the provider its route names. */
export const MODELS = [
  ["gpt-4o-mini", "mock-native"],
  ["deepseek-chat", "mock-relay"],
  ["claude-sonnet-4-5", "mock-anthropic"],
  ["gemini-2.5-flash", "mock-gemini"],
] as const;

export interface ResponsesGateway {
  services: Services;
  /** Calls the app; a stream is read whole before it is handed back, so its waitUntil work is done. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * A gateway on RESPONSES_CONFIG (or another config) whose every call, streams included, has
 * finished its waitUntil work (usage row, stored response) when it returns.
 * @example const gw = responsesGateway(); await gw.fetch("/v1/responses", post(body, key))
 */
export function responsesGateway(config: Record<string, unknown> = RESPONSES_CONFIG): ResponsesGateway {
  // The shared test gateway, on the real clock (stored responses and rows carry real times).
  return testGateway({
    env: { SLUICE_CONFIG: JSON.stringify(config) },
    overrides: { now: () => Date.now() },
  });
}

/** A key of a fresh tenant on the enterprise plan, with the given limits. */
export async function tenantKey(
  limits: Record<string, number> = {},
): Promise<{ token: string; tenant: string }> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `resp-${crypto.randomUUID().slice(0, 12)}`;
  const { token } = await mintKey(
    signer,
    { tenant, plan: "enterprise", limits },
    { issuer: "sluice", audience: "sluice" },
  );
  return { token, tenant };
}

/** The official SDK, unchanged, served by the test gateway. */
export function sdkFor(gw: ResponsesGateway, apiKey: string): OpenAI {
  return openaiClient(gw, apiKey);
}

/** What a Response's usage should cost at the route's target: provider usage times the price book. */
export function expectedCost(
  gw: ResponsesGateway,
  provider: string,
  model: string,
  usage: unknown,
): number | null {
  const tokens = readResponsesUsage(usage);
  if (!tokens) throw new Error("no usage");
  return gw.services.meter.costUsd(provider, model, tokens);
}

export const WEATHER_TOOL = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};
