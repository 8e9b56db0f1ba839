import { env } from "cloudflare:workers";
import { importSigningKey, mintKey } from "../../src/auth";
import { upstreamRequests } from "../support/gateway";

/**
 * A model name for the mock that no other test uses (its `+reply=` option changes nothing that
 * matters here): its breaker and latency keys in Redis, and its requests at the mock, are this
 * test's alone.
 */
export const uniqueModel = (tag: string): string =>
  `gpt-4o-mini+reply=${tag}${crypto.randomUUID().slice(0, 8)}`;

/**
 * An upstream fetch that adds mock fault options (`x-mock-fault`) to the calls for some models,
 * as the test sets them: a target slows down or fails while the gateway runs, and recovers.
 * @example const faults = new Map([[model, "slow-first-byte-300"]]); gateway(config, { fetcher: faultyFetch(faults) })
 */
export function faultyFetch(faults: Map<string, string>): typeof fetch {
  return (input, init) => {
    const body = typeof init?.body === "string" ? init.body : "";
    const model = body ? (JSON.parse(body) as { model?: unknown }).model : undefined;
    const fault = typeof model === "string" ? faults.get(model) : undefined;
    if (!fault) return fetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set("x-mock-fault", fault);
    return fetch(input, { ...init, headers });
  };
}

/** How many requests the mock received for each of `models`, in order. */
export async function mockCounts(...models: string[]): Promise<number[]> {
  const received = await upstreamRequests();
  return models.map((model) => received.filter((r) => r.body.model === model).length);
}

/** A short chat request to `model` with `key`. */
export function chatWith(key: string, model: string): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello there" }], max_tokens: 16 }),
  };
}

/**
 * A key of a tenant no other test uses, on a plan without budgets (the key's own `limits` apart).
 * @example const { tenant, token } = await freshKey({ keyId, limits: { budget_usd_day: 1 } })
 */
export async function freshKey(
  opts: { tenant?: string; keyId?: string; limits?: Record<string, number>; now?: number } = {},
): Promise<{ tenant: string; token: string }> {
  const tenant = opts.tenant ?? `routing-${crypto.randomUUID().slice(0, 8)}`;
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const { token } = await mintKey(
    signer,
    { tenant, keyId: opts.keyId, plan: "enterprise", limits: opts.limits },
    { issuer: "sluice", audience: "sluice", now: opts.now },
  );
  return { tenant, token };
}

/**
 * Gateway config of one route (named at random) over two mock targets, `mock` then `mock-b`,
 * each with its list price (USD per 1M tokens).
 * @example const { route, config } = twoTargets("cheapest", [a, 10, 40], [b, 1, 4], { retries: 0 })
 */
export function twoTargets(
  strategy: string,
  first: [model: string, input: number, output: number],
  second: [model: string, input: number, output: number],
  routeExtra: Record<string, unknown> = {},
): { route: string; config: Record<string, unknown> } {
  const route = `${strategy}-${crypto.randomUUID().slice(0, 8)}`;
  const targets = [
    { provider: "mock", model: first[0] },
    { provider: "mock-b", model: second[0] },
  ];
  const prices = [first, second].map(([model, input, output], i) => ({
    model,
    provider: targets[i]?.provider,
    input,
    output,
  }));
  return { route, config: { routes: { [route]: { strategy, targets, ...routeExtra } }, prices } };
}
