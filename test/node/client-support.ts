import type { LanguageModel } from "ai";
import { jsonSchema, stepCountIs, streamText, tool } from "ai";
import { inject } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";

// What the real-client tests against the served gateway share: keys of fresh tenants, and the
// Vercel AI SDK's streamed two-step tool loop.

const bindings = inject("workerBindings") as Record<string, string>;

/**
 * A key of a fresh tenant named `${prefix}-<random>` (its own limits, shared with no other test),
 * signed with the served gateway's signing key; enterprise unless the claims say otherwise.
 * @example const { token } = await freshTenantKey("codex")
 */
export async function freshTenantKey(
  prefix: string,
  claims: { name?: string; plan?: string; limits?: Record<string, number> } = {},
): Promise<{ token: string; tenant: string; keyId: string }> {
  const signer = await importSigningKey(bindings.SLUICE_SIGNING_KEY as string);
  const tenant = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const minted = await mintKey(
    signer,
    { tenant, ...claims, plan: claims.plan ?? "enterprise" },
    { issuer: "sluice", audience: "sluice" },
  );
  return { token: minted.token, tenant, keyId: minted.claims.jti };
}

/** A weather tool's parameters, as JSON Schema (strict: every property required, no others). */
export const WEATHER_PARAMETERS = {
  type: "object" as const,
  properties: { city: { type: "string" as const } },
  required: ["city"],
  additionalProperties: false as const,
};

/**
 * streamText with one tool over two steps (the mock calls a tool whenever one is offered, so the
 * second step is made to answer in text): the tool's inputs, the streamed text and the total usage.
 * @example const { calls, text } = await weatherToolLoop(openai.chat("gpt-4o-mini"))
 */
export async function weatherToolLoop(model: LanguageModel) {
  const calls: unknown[] = [];
  const result = streamText({
    model,
    prompt: "What is the weather in Paris?",
    tools: {
      get_weather: tool({
        description: "Weather for a city",
        inputSchema: jsonSchema<{ city: string }>(WEATHER_PARAMETERS),
        execute: async (input) => {
          calls.push(input);
          return "Sunny, 21C";
        },
      }),
    },
    stopWhen: stepCountIs(2),
    prepareStep: ({ stepNumber }) => (stepNumber > 0 ? { toolChoice: "none" } : {}),
  });
  let text = "";
  for await (const part of result.textStream) text += part;
  return { calls, text, totalUsage: await result.totalUsage };
}
