import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { importSigningKey, mintKey } from "../../src/auth";
import { clearUpstream, gateway, post, upstreamRequests } from "../support/gateway";

// Caps on the size of work: how much a caller may ask for (embeddings inputs, batched prompts), how
// much an upstream may answer (JSON answers, error bodies, one stream event), and how long a
// request body may take to arrive.

const MAX_UPSTREAM_BYTES = 64 * 1024;
/** Well past the cap and past the 64 KiB read of an error body. */
const PAD = "pad-200000";
const gw = gateway({
  max_upstream_bytes: MAX_UPSTREAM_BYTES,
  body_timeout_ms: 200,
  routes: {
    "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
    "text-embedding-3-small": { targets: [{ provider: "mock", model: "text-embedding-3-small" }] },
    huge: { targets: [{ provider: "mock", model: `gpt-4o-mini+fault=${PAD}` }], retries: 0 },
    // Too large is about the request, not the target's health: never retried, never sent elsewhere.
    "huge-then-ok": {
      targets: [
        { provider: "mock", model: `gpt-4o-mini+fault=${PAD}` },
        { provider: "mock-b", model: "gpt-4o-mini" },
      ],
      retries: 2,
    },
    "huge-error": { targets: [{ provider: "mock", model: `gpt-4o-mini+fault=status-400,${PAD}` }] },
    "huge-stream": {
      targets: [{ provider: "mock", model: `gpt-4o-mini+fault=${PAD}` }],
      idle_timeout_ms: 5_000,
    },
  },
});

async function ownKey(): Promise<string> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const { token } = await mintKey(
    signer,
    { tenant: `caps-${crypto.randomUUID().slice(0, 8)}`, name: "caps", plan: "enterprise" },
    { issuer: "sluice", audience: "sluice" },
  );
  return token;
}
const KEY = await ownKey();

type ErrorJson = { error: { message: string; type: string; param: string | null; code: string | null } };
const errorOf = async (response: Response) => ((await response.json()) as ErrorJson).error;
const hello = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "hello" }],
  ...extra,
});

beforeEach(clearUpstream);

describe("what a caller may ask for", () => {
  const embed = (input: unknown) =>
    gw.fetch("/v1/embeddings", post({ model: "text-embedding-3-small", input, dimensions: 2 }, KEY));

  it("embeddings: at most 2,048 inputs (OpenAI's limit), 400 naming input before any upstream call", async () => {
    const refused = await embed(Array.from({ length: 2049 }, () => "x"));
    expect(refused.status).toBe(400);
    const error = await errorOf(refused);
    expect(error).toMatchObject({ type: "invalid_request_error", param: "input" });
    expect(error.message).toContain("2048");
    const tokenArrays = await embed(Array.from({ length: 2049 }, () => [1, 2]));
    expect((await errorOf(tokenArrays)).param).toBe("input");
    expect(await upstreamRequests()).toHaveLength(0);

    // 2,048 pass (on a gateway with the default upstream cap: this one's is tiny).
    const roomy = gateway({
      routes: {
        "text-embedding-3-small": { targets: [{ provider: "mock", model: "text-embedding-3-small" }] },
      },
    });
    const input = Array.from({ length: 2048 }, () => "x");
    const served = await roomy.fetch(
      "/v1/embeddings",
      post({ model: "text-embedding-3-small", input, dimensions: 2 }, KEY),
    );
    expect(served.status).toBe(200);
  });

  it("token-array inputs: at most 300,000 tokens per request, one array or many", async () => {
    const flat = await embed(Array.from({ length: 300_001 }, () => 1));
    expect(flat.status).toBe(400);
    expect((await errorOf(flat)).param).toBe("input");
    const nested = await embed(Array.from({ length: 2000 }, () => Array.from({ length: 151 }, () => 1)));
    expect(nested.status).toBe(400);
    expect((await errorOf(nested)).param).toBe("input");
    expect(await upstreamRequests()).toHaveLength(0);
  });

  it("completions: at most 2,048 batched prompts, best_of within OpenAI's 1-20", async () => {
    const complete = (extra: Record<string, unknown>) =>
      gw.fetch("/v1/completions", post({ model: "gpt-4o-mini", max_tokens: 5, ...extra }, KEY));
    const prompts = await complete({ prompt: Array.from({ length: 2049 }, () => "x") });
    expect(prompts.status).toBe(400);
    expect((await errorOf(prompts)).param).toBe("prompt");
    const bestOf = await complete({ prompt: "x", best_of: 21 });
    expect(bestOf.status).toBe(400);
    expect((await errorOf(bestOf)).param).toBe("best_of");
  });
});

describe("what an upstream may answer", () => {
  it("a JSON answer past max_upstream_bytes is a 502 upstream_response_too_large, not retried elsewhere", async () => {
    const response = await gw.fetch("/v1/chat/completions", post(hello("huge"), KEY));
    expect(response.status).toBe(502);
    const error = await errorOf(response);
    expect(error.code).toBe("upstream_response_too_large");
    expect(error.message).toContain(String(MAX_UPSTREAM_BYTES));

    const again = await gw.fetch("/v1/chat/completions", post(hello("huge-then-ok"), KEY));
    expect(again.status).toBe(502);
    expect((await errorOf(again)).code).toBe("upstream_response_too_large");
    expect(again.headers.get("x-sluice-attempts")).toBe("1");
  });

  it("an error body is read only up to a bound: the caller gets the status with a message of our own", async () => {
    const response = await gw.fetch("/v1/chat/completions", post(hello("huge-error"), KEY));
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    // The mock's own message sits in the part of the body never read.
    expect(error.message).not.toContain("mock fault");
    expect(JSON.stringify(error).length).toBeLessThan(1_000);
  });

  it("a stream line or event longer than max_upstream_bytes ends the stream (never buffered whole)", async () => {
    const response = await gw.fetch(
      "/v1/chat/completions",
      post(hello("huge-stream", { stream: true }), KEY),
    );
    // It happens before the first byte reaches the caller, so it is still a plain error answer.
    expect(response.status).toBe(502);
    expect((await errorOf(response)).code).toBe("upstream_response_too_large");
  });
});

describe("how long a request body may take", () => {
  it("a body that stops arriving gets 408 request_timeout after body_timeout_ms, and its stream is cancelled", async () => {
    let cancelled = false;
    const stalled = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"model":"gpt-4o-mini",'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const response = await gw.fetch("/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: stalled,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(408);
    expect(await errorOf(response)).toMatchObject({ type: "invalid_request_error", code: "request_timeout" });
    expect(cancelled).toBe(true);
    expect(await upstreamRequests()).toHaveLength(0);
  });

  it("a body that arrives in time is served", async () => {
    const response = await gw.fetch("/v1/chat/completions", post(hello("gpt-4o-mini"), KEY));
    expect(response.status).toBe(200);
  });
});
