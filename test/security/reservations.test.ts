import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import { requestWorstCase } from "../../src/estimate";
import { clearUpstream, gateway, post, upstreamRequests } from "../support/gateway";

// A reservation must cover the most a request can cost before anything is spent upstream: every
// choice it asks for (`n`, `best_of`, batched prompts) at the dearest target its route can fall
// back to. Otherwise a $0.001 budget admits a request that may cost $0.077.

const prices = [
  { provider: "mock", model: "cheap-model", input: 0.1, output: 0.1 },
  { provider: "mock-b", model: "dear-model", input: 100, output: 100 },
];
const gw = gateway({
  routes: {
    "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
    cheap: { targets: [{ provider: "mock", model: "cheap-model" }] },
    // Served by the cheap target while it is up; the dear one is where it falls back to.
    "cheap-then-dear": {
      targets: [
        { provider: "mock", model: "cheap-model" },
        { provider: "mock-b", model: "dear-model" },
      ],
    },
    "cheap-then-unpriced": {
      targets: [
        { provider: "mock", model: "cheap-model" },
        { provider: "mock-b", model: "no-price-model" },
      ],
    },
  },
  prices,
});

/** A key of its own tenant with explicit limits (fresh budget counters every call). */
async function keyWith(limits: Record<string, number>): Promise<string> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `reserve-${crypto.randomUUID().slice(0, 8)}`;
  const { token } = await mintKey(
    signer,
    { tenant, name: "reservations", plan: "enterprise", limits },
    { issuer: "sluice", audience: "sluice" },
  );
  return token;
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 1000,
  ...extra,
});

async function errorCode(response: Response): Promise<string | null> {
  const body = (await response.json()) as { error?: { code?: string } };
  return body.error?.code ?? null;
}

describe("reservations cover the worst case", () => {
  it("n: 128 with max_tokens 1000 on a $0.001 budget is refused before the upstream is called", async () => {
    await clearUpstream();
    // gpt-4o-mini: $0.60 per 1M output tokens; 128 x 1000 tokens is about $0.077.
    const key = await keyWith({ budget_usd_day: 0.001 });
    const refused = await gw.fetch("/v1/chat/completions", post(chat("gpt-4o-mini", { n: 128 }), key));
    expect(refused.status).toBe(429);
    expect(await errorCode(refused)).toBe("insufficient_quota");
    expect(await upstreamRequests()).toHaveLength(0);

    // The same request with one choice (about $0.0006) fits: the budget was not the whole story.
    const admitted = await gw.fetch("/v1/chat/completions", post(chat("gpt-4o-mini", { n: 1 }), key));
    expect(admitted.status).toBe(200);
  });

  it("completions: best_of choices are generated upstream, and so are batched prompts", async () => {
    // cheap-model: $0.10 per 1M output tokens, so the $0.001 budget covers 10,000 output tokens.
    const key = await keyWith({ budget_usd_day: 0.001 });
    const completion = (extra: Record<string, unknown>) =>
      gw.fetch("/v1/completions", post({ model: "cheap", prompt: "hi", max_tokens: 5_000, ...extra }, key));
    // best_of 20 x 1 prompt x 5,000 = 100,000 tokens: refused, though n is 1.
    const bestOf = await completion({ n: 1, best_of: 20 });
    expect(bestOf.status).toBe(429);
    expect(await errorCode(bestOf)).toBe("insufficient_quota");
    // 16 prompts x 2 choices x 5,000 = 160,000 tokens: refused.
    const batched = await completion({ prompt: Array.from({ length: 16 }, () => "hi"), n: 2 });
    expect(batched.status).toBe(429);
    expect(await errorCode(batched)).toBe("insufficient_quota");
    // 1 prompt x 1 choice x 5,000 = $0.0005: admitted.
    expect((await completion({})).status).toBe(200);
  });

  it("prices the worst case at the dearest target the route can fall back to", async () => {
    // max_tokens 1000: $0.0001 on the cheap target, $0.1 on the dear one; the budget is $0.001.
    const cheapOnly = await gw.fetch(
      "/v1/chat/completions",
      post(chat("cheap"), await keyWith({ budget_usd_day: 0.001 })),
    );
    expect(cheapOnly.status).toBe(200);

    const withFallback = await gw.fetch(
      "/v1/chat/completions",
      post(chat("cheap-then-dear"), await keyWith({ budget_usd_day: 0.001 })),
    );
    expect(withFallback.status).toBe(429);
    expect(await errorCode(withFallback)).toBe("insufficient_quota");
  });

  it("counts every choice against the token rate too", async () => {
    const key = await keyWith({ tpm: 10_000 });
    const tooMany = await gw.fetch("/v1/chat/completions", post(chat("cheap", { n: 20 }), key));
    expect(tooMany.status).toBe(429);
    expect(await errorCode(tooMany)).toBe("rate_limit_exceeded");
    expect((await gw.fetch("/v1/chat/completions", post(chat("cheap", { n: 2 }), key))).status).toBe(200);
  });

  it("an unpriced fallback target is reserved at the priced targets' worst case", async () => {
    const key = await keyWith({ budget_usd_day: 0.001 });
    const response = await gw.fetch("/v1/chat/completions", post(chat("cheap-then-unpriced"), key));
    expect(response.status).toBe(200);
  });
});

describe("requestWorstCase", () => {
  const price = (provider: string, model: string, prompt: number, output: number) =>
    model === "unpriced" ? null : (provider === "dear" ? 100 : 1) * (prompt + output);
  const base = { promptTokens: 10, maxOutputTokens: 100, price };

  it("multiplies output by n for chat, by max(n, best_of) x prompts for completions", () => {
    const targets = [{ provider: "cheap", model: "m" }];
    expect(requestWorstCase({ ...base, endpoint: "chat", body: { n: 3 }, targets })).toEqual({
      tokens: 310,
      micros: 310,
      perTarget: [310],
    });
    const prompts = { prompt: ["a", "b"], n: 2, best_of: 5 };
    expect(requestWorstCase({ ...base, endpoint: "completions", body: prompts, targets }).tokens).toBe(1010);
    const tokenPrompts = { prompt: [[1, 2], [3]], n: 4 };
    expect(requestWorstCase({ ...base, endpoint: "completions", body: tokenPrompts, targets }).tokens).toBe(
      810,
    );
    expect(
      requestWorstCase({ ...base, endpoint: "completions", body: { prompt: [1, 2, 3] }, targets }).tokens,
    ).toBe(110);
    expect(
      requestWorstCase({ ...base, maxOutputTokens: 0, endpoint: "embeddings", body: {}, targets }),
    ).toEqual({
      tokens: 10,
      micros: 10,
      perTarget: [10],
    });
  });

  it("takes the dearest priced target; null only when none is priced", () => {
    const body = {};
    const route = (...models: [string, string][]) => models.map(([provider, model]) => ({ provider, model }));
    expect(
      requestWorstCase({ ...base, endpoint: "chat", body, targets: route(["cheap", "m"], ["dear", "m"]) })
        .micros,
    ).toBe(11_000);
    expect(
      requestWorstCase({ ...base, endpoint: "chat", body, targets: route(["cheap", "m"], ["x", "unpriced"]) })
        .micros,
    ).toBe(110);
    expect(
      requestWorstCase({ ...base, endpoint: "chat", body, targets: route(["x", "unpriced"]) }).micros,
    ).toBe(null);
  });
});
