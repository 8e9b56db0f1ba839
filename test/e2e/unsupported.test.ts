import { beforeEach, describe, expect, it } from "vitest";
import { targetKey } from "../../src/routing";
import { clearUpstream, gateway, upstreamRequests } from "../support/gateway";
import { postJson } from "./support";

const anthropic = { provider: "mock-anthropic", model: "claude-sonnet-4-5" };
const gemini = { provider: "mock-gemini", model: "text-embedding-004" };
const openai = { provider: "mock", model: "gpt-4o-mini" };

const gw = gateway(
  {
    routes: {
      "embed-anthropic-then-gemini": { targets: [anthropic, gemini] },
      "embed-anthropic-only": { targets: [anthropic] },
      "embed-down-then-anthropic": {
        targets: [{ provider: "mock", model: "text-embedding-3-small+fault=status-503" }, anthropic],
        retries: 0,
      },
      "chat-anthropic-then-openai": { targets: [anthropic, openai] },
    },
    // One failure would open a breaker: refusals must not count as failures.
    breaker: { min_requests: 1, failure_ratio: 0.5 },
  },
  { sleep: async () => {} },
);

beforeEach(clearUpstream);

describe("a target that cannot serve the request", () => {
  it("is skipped for the next target, without a call, a retry or a breaker failure", async () => {
    const res = await gw.fetch(
      "/v1/embeddings",
      postJson({ model: "embed-anthropic-then-gemini", input: "hello" }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sluice-provider")).toBe("mock-gemini");
    expect(res.headers.get("x-sluice-attempts")).toBe("2");
    const sent = await upstreamRequests();
    expect(sent.map((r) => r.path)).toEqual(["/v1beta/models/text-embedding-004:embedContent"]);
    expect(gw.services.breakers.phase(targetKey(anthropic))).toBe("closed");
  });

  it("answers its 400 when no target can serve the request", async () => {
    const res = await gw.fetch("/v1/embeddings", postJson({ model: "embed-anthropic-only", input: "hello" }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; type: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "unsupported_endpoint" });
    expect(body.error.message).toMatch(/embeddings/i);
    expect(await upstreamRequests()).toEqual([]);
    expect(gw.services.breakers.phase(targetKey(anthropic))).toBe("closed");
  });

  it("prefers a real upstream failure over a later target's refusal", async () => {
    const res = await gw.fetch(
      "/v1/embeddings",
      postJson({ model: "embed-down-then-anthropic", input: "hello" }),
    );
    expect(res.status).toBe(503);
  });

  it("moves on for a feature only one kind lacks (n > 1 on Anthropic)", async () => {
    const res = await gw.fetch(
      "/v1/chat/completions",
      postJson({
        model: "chat-anthropic-then-openai",
        n: 2,
        messages: [{ role: "user", content: "Two please" }],
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sluice-provider")).toBe("mock");
    const sent = await upstreamRequests();
    expect(sent.map((r) => [r.path, r.body.n])).toEqual([["/v1/chat/completions", 2]]);
  });

  it("still answers a malformed body's 400 at once, without trying the next target", async () => {
    const res = await gw.fetch(
      "/v1/chat/completions",
      postJson({
        model: "chat-anthropic-then-openai",
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "[1,2]" } }],
          },
          { role: "tool", tool_call_id: "c1", content: "ok" },
        ],
      }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_value");
    expect(res.headers.get("x-sluice-attempts")).toBe("1");
    expect(await upstreamRequests()).toEqual([]);
  });
});
