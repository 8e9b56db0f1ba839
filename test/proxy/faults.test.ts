import { beforeEach, describe, expect, it } from "vitest";
import {
  clearUpstream,
  gateway,
  post,
  readSse,
  upstreamOnceCancelled,
  upstreamRequests,
} from "../support/gateway";

/** A route whose first target misbehaves as `fault` says and whose second is healthy. */
function withFallback(fault: string) {
  return {
    targets: [
      { provider: "mock", model: `gpt-4o-mini+fault=${fault}` },
      { provider: "mock-b", model: "gpt-4o-mini" },
    ],
    retries: 0,
    first_byte_timeout_ms: 500,
    idle_timeout_ms: 500,
  };
}

const sleeps: number[] = [];
const gw = gateway(
  {
    routes: {
      "m-503": withFallback("status-503"),
      "m-529": withFallback("status-529"),
      "m-401": withFallback("status-401"),
      "m-400": withFallback("status-400"),
      "m-hang": withFallback("hang"),
      "m-reset": withFallback("reset"),
      "m-malformed-first": withFallback("malformed-after-0"),
      "m-drop-first": withFallback("drop-after-0"),
      "m-slow": { targets: [{ provider: "mock", model: "gpt-4o-mini+fault=slow-first-byte-100" }] },
      "m-retry": {
        targets: [{ provider: "mock", model: "gpt-4o-mini+fault=status-429-retry-1,times-1" }],
        retries: 2,
      },
      "m-retry-long": {
        targets: [
          { provider: "mock", model: "gpt-4o-mini+fault=status-429-retry-60" },
          { provider: "mock-b", model: "gpt-4o-mini" },
        ],
        retries: 2,
      },
      "m-drop": {
        targets: [{ provider: "mock", model: "gpt-4o-mini+fault=drop-after-3" }],
        idle_timeout_ms: 500,
      },
      "m-stall": {
        targets: [{ provider: "mock", model: "gpt-4o-mini+fault=stall-after-3" }],
        idle_timeout_ms: 300,
      },
      "m-malformed": { targets: [{ provider: "mock", model: "gpt-4o-mini+fault=malformed-after-3" }] },
      "m-all-down": {
        targets: [
          { provider: "mock", model: "gpt-4o-mini+fault=status-503" },
          { provider: "mock-b", model: "gpt-4o-mini+fault=status-502" },
        ],
        retries: 0,
      },
    },
  },
  {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  },
);

const ask = (model: string, stream = false) =>
  post({ model, stream, messages: [{ role: "user", content: "Tell me something" }] });

beforeEach(async () => {
  sleeps.length = 0;
  await clearUpstream();
});

describe.each([false, true])("fallback before the first byte (stream: %s)", (stream) => {
  it.each(["m-503", "m-529", "m-401", "m-hang", "m-reset", "m-malformed-first", "m-drop-first"])(
    "%s falls back to the healthy target",
    async (model) => {
      const res = await gw.fetch("/v1/chat/completions", ask(model, stream));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-sluice-provider")).toBe("mock-b");
      expect(res.headers.get("x-sluice-attempts")).toBe("2");
      if (stream) expect((await readSse(res)).at(-1)).toBe("[DONE]");
      else expect(((await res.json()) as { object: string }).object).toBe("chat.completion");
    },
  );

  it("never falls back on the caller's own 400", async () => {
    const res = await gw.fetch("/v1/chat/completions", ask("m-400", stream));
    expect(res.status).toBe(400);
    expect(res.headers.get("x-sluice-attempts")).toBe("1");
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toBeTruthy();
    expect((await upstreamRequests()).map((r) => (r.body as { model: string }).model)).toEqual([
      "gpt-4o-mini+fault=status-400",
    ]);
  });
});

describe("retries", () => {
  it("honours Retry-After, then succeeds on the same target", async () => {
    const res = await gw.fetch("/v1/chat/completions", ask("m-retry"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sluice-attempts")).toBe("2");
    expect(sleeps).toEqual([1000]);
  });

  it("moves on instead of waiting out a Retry-After past the cap", async () => {
    const res = await gw.fetch("/v1/chat/completions", ask("m-retry-long"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-sluice-provider")).toBe("mock-b");
    expect(sleeps).toEqual([]);
  });

  it("answers with the last upstream error when every target fails", async () => {
    const res = await gw.fetch("/v1/chat/completions", ask("m-all-down"));
    expect(res.status).toBe(502);
    expect(res.headers.get("x-sluice-attempts")).toBe("2");
    expect(((await res.json()) as { error: { message: string } }).error.message).toBeTruthy();
  });

  it("waits out a slow first byte inside the timeout", async () => {
    const res = await gw.fetch("/v1/chat/completions", ask("m-slow"));
    expect(res.status).toBe(200);
  });
});

describe("failures after the first byte", () => {
  it.each([
    ["m-drop", "upstream_stream_interrupted"],
    ["m-stall", "upstream_idle_timeout"],
    ["m-malformed", "upstream_malformed_chunk"],
  ])("%s ends the stream with an error event, never [DONE]", async (model, code) => {
    const res = await gw.fetch("/v1/chat/completions", ask(model, true));
    expect(res.status).toBe(200);
    const payloads = await readSse(res);
    expect(payloads).not.toContain("[DONE]");
    const last = JSON.parse(payloads.at(-1) as string) as { error: { code: string; type: string } };
    expect(last.error).toMatchObject({ code, type: "server_error" });
    // What came before the failure reached the client.
    expect(payloads.length).toBeGreaterThan(1);
  });
});

describe("client disconnect", () => {
  it("aborts the upstream request", async () => {
    const slowStream = gateway({
      routes: { slow: { targets: [{ provider: "mock", model: "gpt-4o-mini+chunk-delay-ms=50+words=200" }] } },
    });
    const { response, settled } = await slowStream.start("/v1/chat/completions", ask("slow", true));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    await settled;
    const recorded = await upstreamOnceCancelled();
    expect(recorded[0]?.cancelled).toBe(true);
    expect(recorded[0]?.completed).toBe(false);
  });
});
