/**
 * The gateway config `npm run dev` and the tests run with: every dev model routed to the local
 * mock provider, in the wire format its real vendor speaks.
 */
export function devConfig(mockUrl: string): Record<string, unknown> {
  return {
    providers: {
      // Speaks the Responses API as OpenAI does: /v1/responses goes to it natively.
      "mock-openai": {
        kind: "openai",
        base_url: `${mockUrl}/v1`,
        api_key_secret: "MOCK_API_KEY",
        responses_api: true,
      },
      "mock-deepseek": { kind: "openai", base_url: `${mockUrl}/v1`, api_key_secret: "MOCK_API_KEY" },
      "mock-anthropic": { kind: "anthropic", base_url: mockUrl, api_key_secret: "MOCK_API_KEY" },
      "mock-gemini": { kind: "gemini", base_url: `${mockUrl}/v1beta`, api_key_secret: "MOCK_API_KEY" },
    },
    routes: {
      "gpt-4o-mini": { targets: [{ provider: "mock-openai", model: "gpt-4o-mini" }] },
      "gpt-4.1": { targets: [{ provider: "mock-openai", model: "gpt-4.1" }] },
      // Its streams are forwarded by the runtime as the provider sent them (README "Streaming").
      "gpt-4o-mini-passthrough": {
        targets: [{ provider: "mock-openai", model: "gpt-4o-mini" }],
        stream_passthrough: true,
      },
      "text-embedding-3-small": { targets: [{ provider: "mock-openai", model: "text-embedding-3-small" }] },
      "deepseek-chat": { targets: [{ provider: "mock-deepseek", model: "deepseek-chat" }] },
      "claude-sonnet-4-5": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
      "gemini-2.5-flash": { targets: [{ provider: "mock-gemini", model: "gemini-2.5-flash" }] },
    },
  };
}

/** The mock accepts any key; this one only proves the gateway forwards a provider secret. */
export const MOCK_PROVIDER_KEY = "sk-mock-provider-key";
