import { beforeEach, describe, expect, it } from "vitest";
import { clearUpstream, gateway, post, readSse, upstreamRequests } from "../support/gateway";

const gw = gateway({
  routes: {
    "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
  },
});

const hello = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello there gateway" }] };

beforeEach(clearUpstream);

describe("POST /v1/chat/completions", () => {
  it("answers JSON with the gateway's headers", async () => {
    const res = await gw.fetch(
      "/v1/chat/completions",
      post(hello, undefined, { "x-request-id": "req-json-1" }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      object: string;
      choices: { message: { content: string } }[];
      usage: Record<string, number>;
    };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]?.message.content).toContain("Mock reply to: Hello there gateway");
    expect(body.usage.prompt_tokens).toBe(3 + 3);
    // The caller's id is echoed as a label; x-request-id is always the gateway's own.
    expect(res.headers.get("x-client-request-id")).toBe("req-json-1");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-sluice-provider")).toBe("mock");
    expect(res.headers.get("x-sluice-model")).toBe("gpt-4o-mini");
    expect(res.headers.get("x-sluice-attempts")).toBe("1");
    const timing = res.headers.get("server-timing") ?? "";
    for (const phase of ["auth", "limits", "routing", "upstream", "overhead"])
      expect(timing).toContain(phase);
  });

  it("forwards the provider key, never the caller's", async () => {
    await gw.fetch("/v1/chat/completions", post(hello));
    const [sent] = await upstreamRequests();
    expect(sent?.headers.authorization).toBe("Bearer sk-mock-provider-key");
  });

  it("streams SSE chunks ending in [DONE], without the usage chunk nobody asked for", async () => {
    const res = await gw.fetch("/v1/chat/completions", post({ ...hello, stream: true }));
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const payloads = await readSse(res);
    expect(payloads.at(-1)).toBe("[DONE]");
    const chunks = payloads
      .slice(0, -1)
      .map((p) => JSON.parse(p) as { choices: { delta: { content?: string } }[] });
    expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toContain(
      "Mock reply to: Hello there gateway",
    );
    // The gateway always asks upstream for usage, so it can meter the stream.
    const [sent] = await upstreamRequests();
    expect(sent?.body.stream_options).toEqual({ include_usage: true });
  });

  it("keeps the usage chunk, with its cost, when the caller asks for it", async () => {
    const res = await gw.fetch(
      "/v1/chat/completions",
      post({ ...hello, stream: true, stream_options: { include_usage: true } }),
    );
    const payloads = await readSse(res);
    const usageChunk = JSON.parse(payloads.at(-2) as string) as {
      choices: unknown[];
      usage: { prompt_tokens: number; cost: number };
    };
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.prompt_tokens).toBe(6);
    expect(typeof usageChunk.usage.cost).toBe("number");
  });

  it("passes tools, image parts and unknown fields to the upstream intact", async () => {
    const body = {
      model: "gpt-4o-mini",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this image?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } },
          ],
        },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
      tool_choice: "auto",
      some_future_param: { keep: ["me"] },
    };
    const res = await gw.fetch("/v1/chat/completions", post(body));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      choices: { message: { tool_calls: { function: { name: string } }[] } }[];
    };
    expect(answer.choices[0]?.message.tool_calls[0]?.function.name).toBe("get_weather");
    const [sent] = await upstreamRequests();
    expect(sent?.body.messages).toEqual(body.messages);
    expect(sent?.body.tools).toEqual(body.tools);
    expect(sent?.body.some_future_param).toEqual({ keep: ["me"] });
  });
});

describe("bad input", () => {
  it("rejects malformed JSON with an OpenAI-shaped 400", async () => {
    const res = await gw.fetch("/v1/chat/completions", { ...post(hello), body: "{not json" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({
      type: "invalid_request_error",
      code: "invalid_json",
    });
  });

  it("names the bad param", async () => {
    const res = await gw.fetch("/v1/chat/completions", post({ ...hello, temperature: "hot" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("temperature");
    const res2 = await gw.fetch(
      "/v1/chat/completions",
      post({ model: "gpt-4o-mini", messages: [{ role: "user", content: 5 }] }),
    );
    expect(((await res2.json()) as { error: { param: string } }).error.param).toBe("messages[0].content");
  });

  it("answers 404 model_not_found for an unknown model", async () => {
    const res = await gw.fetch("/v1/chat/completions", post({ ...hello, model: "gpt-9" }));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
  });

  it("caps the body size with a 413", async () => {
    const big = gateway({
      max_body_bytes: 1024,
      routes: { "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] } },
    });
    const res = await big.fetch(
      "/v1/chat/completions",
      post({ ...hello, messages: [{ role: "user", content: "x".repeat(2000) }] }),
    );
    expect(res.status).toBe(413);
    expect(await upstreamRequests()).toEqual([]);
  });
});
