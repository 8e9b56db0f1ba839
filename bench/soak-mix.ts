/**
 * What the soak sends: a fixed mix of JSON chats, short and long streams, client aborts and
 * routes whose first target fails in the mock's ways (a 503, a reset connection, an error event
 * mid-stream, a slow first byte). Every faulty route falls back to a healthy target, so the caller
 * sees no 5xx from them: the only 5xx the soak accepts is `limits_unavailable` while Redis pauses.
 */
import type { HttpCall } from "./load";
import { LONG_STREAM_WORDS } from "./scenarios";

/** The soak key's tenant: its usage rows are the ones counted against the requests sent. */
export const SOAK_TENANT = "bench-soak";

/** Fault routes: the first target carries a mock fault in its model suffix, the second is healthy. */
const FAULTS: Record<string, string> = {
  "soak-fallback-503": "status-503",
  "soak-fallback-reset": "reset",
  "soak-midstream-error": "error-after-4",
  "soak-slow-first-byte": "slow-first-byte-150",
};

/** Adds the faulty provider and the fault routes to the bench config. */
export function withSoakConfig(config: Record<string, unknown>, mockUrl: string): Record<string, unknown> {
  const base = config as { providers: Record<string, unknown>; routes: Record<string, unknown> };
  const routes: Record<string, unknown> = { ...base.routes };
  for (const [route, fault] of Object.entries(FAULTS)) {
    routes[route] = {
      targets: [
        // Its own provider name: the faulty targets' circuit breakers never touch the healthy one.
        { provider: "mock-openai-faults", model: `gpt-4o-mini+fault=${fault}` },
        { provider: "mock-openai", model: "gpt-4o-mini" },
      ],
    };
  }
  return {
    ...config,
    providers: {
      ...base.providers,
      "mock-openai-faults": { kind: "openai", base_url: `${mockUrl}/v1`, api_key_secret: "MOCK_API_KEY" },
    },
    routes,
  };
}

/** One kind of soak request. */
export interface SoakKind {
  name: string;
  /** Share of the requests, in percent. */
  weight: number;
  call: HttpCall;
  /** The client drops the connection at the first body byte (the gateway must still write a row). */
  abort?: boolean;
}

/**
 * The mix (weights add up to 100).
 * @example soakKinds(apiKey).find((k) => k.abort)?.call.path // "/v1/chat/completions"
 */
export function soakKinds(apiKey: string): SoakKind[] {
  const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
  const chat = (model: string, extra: Record<string, unknown> = {}): HttpCall => ({
    method: "POST",
    path: "/v1/chat/completions",
    headers,
    body: JSON.stringify({
      model,
      max_tokens: 32,
      messages: [{ role: "user", content: "Say hello to the soak in a few short words please" }],
      ...extra,
    }),
    stream: extra.stream === true,
  });
  const long = { max_tokens: 2 * LONG_STREAM_WORDS, stream: true };
  return [
    { name: "json", weight: 40, call: chat("gpt-4o-mini") },
    { name: "stream", weight: 22, call: chat("gpt-4o-mini", { stream: true }) },
    { name: "long stream", weight: 6, call: chat("gpt-4o-mini-long", long) },
    { name: "client abort", weight: 10, call: chat("gpt-4o-mini-long", long), abort: true },
    { name: "503 then fallback", weight: 8, call: chat("soak-fallback-503") },
    { name: "reset then fallback", weight: 4, call: chat("soak-fallback-reset") },
    { name: "mid-stream error", weight: 5, call: chat("soak-midstream-error", { stream: true }) },
    { name: "slow first byte", weight: 5, call: chat("soak-slow-first-byte", { stream: true }) },
  ];
}

/**
 * The kind of the i-th request: a fixed, well-spread sequence (a stride prime to 100 walks every
 * percent slot once per 100 requests), so two runs send the same mix in the same order.
 */
export function kindAt(kinds: SoakKind[], i: number): SoakKind {
  const slot = (i * 37) % 100;
  let cumulative = 0;
  for (const kind of kinds) {
    cumulative += kind.weight;
    if (slot < cumulative) return kind;
  }
  return kinds[kinds.length - 1] as SoakKind;
}
