import { exports } from "cloudflare:workers";
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { DEMO_KEY } from "../support/gateway";

/** The official Anthropic SDK, unchanged, pointed at the worker's /v1/messages. */
const sluiceFetch = (input: string | URL | Request, init?: RequestInit) =>
  exports.default.fetch(new Request(input, init));

const client = new Anthropic({
  apiKey: DEMO_KEY,
  baseURL: "http://sluice.test",
  maxRetries: 0,
  fetch: sluiceFetch,
});

describe.each(["claude-sonnet-4-5", "gpt-4o-mini", "gemini-2.5-flash"])(
  "@anthropic-ai/sdk on /v1/messages → %s",
  (model) => {
    it("creates a message", async () => {
      const message = await client.messages.create({
        model,
        max_tokens: 100,
        messages: [{ role: "user", content: "Hello from anthropic sdk" }],
      });
      expect(message.type).toBe("message");
      expect(message.role).toBe("assistant");
      const text = message.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      expect(text).toContain("Mock reply to: Hello from anthropic sdk");
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.stop_reason).toBe("end_turn");
    });

    it("streams a message", async () => {
      const stream = client.messages.stream({
        model,
        max_tokens: 100,
        messages: [{ role: "user", content: "Stream from anthropic sdk" }],
      });
      const final = await stream.finalMessage();
      const text = final.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      expect(text).toContain("Mock reply to: Stream from anthropic sdk");
      expect(final.usage.output_tokens).toBeGreaterThan(0);
    });

    it("calls tools", async () => {
      const message = await client.messages.create({
        model,
        max_tokens: 200,
        tools: [
          { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
        ],
        messages: [{ role: "user", content: "Weather in Paris?" }],
      });
      expect(message.stop_reason).toBe("tool_use");
      const call = message.content.find((b) => b.type === "tool_use");
      expect(call?.type === "tool_use" && call.name).toBe("get_weather");
    });
  },
);

describe("Anthropic-shaped errors", () => {
  it("raises AuthenticationError for a bad key", async () => {
    const wrong = new Anthropic({
      apiKey: "nope",
      baseURL: "http://sluice.test",
      maxRetries: 0,
      fetch: sluiceFetch,
    });
    await expect(
      wrong.messages.create({
        model: "claude-sonnet-4-5",
        max_tokens: 10,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it("raises NotFoundError for an unknown model, with an Anthropic body", async () => {
    const res = await exports.default.fetch(
      new Request("http://sluice.test/v1/messages", {
        method: "POST",
        headers: {
          "x-api-key": DEMO_KEY,
          "content-type": "application/json",
          "anthropic-version": "2023-06-01",
        },
        body: JSON.stringify({ model: "nope", max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
      }),
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });
});
