import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signatureOf } from "../../local/mock-provider/anthropic-thinking";
import { importSigningKey, mintKey } from "../../src/auth";
import { gateway, post } from "../support/gateway";

// /v1/messages validates its body in one layer (a zod schema of Anthropic's request): bad input
// is a 400 in Anthropic's error shape naming the field, never a 500, and nothing reaches a
// provider; what real clients (Claude Code) send still passes.

/** Calls this file's gateway made upstream (the mock's own log is shared with other files). */
let upstreamCalls = 0;
const gw = gateway(
  {
    routes: {
      "claude-sonnet-4-5": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
      "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
    },
  },
  {
    fetcher: (input, init) => {
      upstreamCalls++;
      return fetch(input, init);
    },
  },
);

const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
const { token: KEY } = await mintKey(
  signer,
  { tenant: `messages-input-${crypto.randomUUID().slice(0, 8)}`, plan: "enterprise" },
  { issuer: "sluice", audience: "sluice" },
);

const valid = { model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }] };
const user = (content: unknown) => ({ ...valid, messages: [{ role: "user", content }] });

/** Each bad body, and the field its 400 must name. */
const BAD: [string, Record<string, unknown>, string][] = [
  ["empty messages", { ...valid, messages: [] }, "messages"],
  ["a null message", { ...valid, messages: [null] }, "messages[0]"],
  ["negative max_tokens", { ...valid, max_tokens: -1 }, "max_tokens"],
  ["fractional max_tokens", { ...valid, max_tokens: 1.5 }, "max_tokens"],
  ["temperature 7", { ...valid, temperature: 7 }, "temperature"],
  ["top_p 5", { ...valid, top_p: 5 }, "top_p"],
  ["null content", user(null), "messages[0].content"],
  ["null system", { ...valid, system: null }, "system"],
  ["null tools", { ...valid, tools: null }, "tools"],
  ["a number as content", user(42), "messages[0].content"],
  ["a number as text", user([{ type: "text", text: 42 }]), "messages[0].content[0].text"],
  ["a number as a stop sequence", { ...valid, stop_sequences: [1] }, "stop_sequences[0]"],
  ["tool_choice tool without a name", { ...valid, tool_choice: { type: "tool" } }, "tool_choice.name"],
  [
    "a system role in messages",
    { ...valid, messages: [{ role: "system", content: "x" }] },
    "messages[0].role",
  ],
  ["negative top_k", { ...valid, top_k: -1 }, "top_k"],
  ["a tool without input_schema", { ...valid, tools: [{ name: "get_weather" }] }, "tools[0].input_schema"],
  [
    "a tool_use without an id",
    { ...valid, messages: [{ role: "assistant", content: [{ type: "tool_use", name: "f", input: {} }] }] },
    "messages[0].content[0].id",
  ],
  [
    "a tool_result without tool_use_id",
    user([{ type: "tool_result", content: "ok" }]),
    "messages[0].content[0].tool_use_id",
  ],
  ["a text system block with a number", { ...valid, system: [{ type: "text", text: 1 }] }, "system[0].text"],
  [
    "thinking with a string budget",
    { ...valid, thinking: { type: "enabled", budget_tokens: "lots" } },
    "thinking.budget_tokens",
  ],
  ["stream as a string", { ...valid, stream: "yes" }, "stream"],
  ["model as a number", { ...valid, model: 5 }, "model"],
  ["no max_tokens", { model: valid.model, messages: valid.messages }, "max_tokens"],
];

async function expectBadRequest(res: Response, param: string, what: string): Promise<void> {
  expect(res.status, what).toBe(400);
  const body = (await res.json()) as { type: string; error: { type: string; message: string } };
  expect(body, what).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  expect(body.error.message, what).toContain(`'${param}'`);
}

describe("bad input on /v1/messages", () => {
  it.each(BAD)("%s → 400 naming the field, nothing sent upstream", async (what, body, param) => {
    const before = upstreamCalls;
    await expectBadRequest(await gw.fetch("/v1/messages", post(body, KEY)), param, what);
    expect(upstreamCalls).toBe(before);
  });

  it.each(BAD)(
    "%s → the same 400 on count_tokens (which may leave max_tokens out)",
    async (what, body, param) => {
      const res = await gw.fetch("/v1/messages/count_tokens", post(body, KEY));
      if (what === "no max_tokens") expect(res.status, what).toBe(200);
      else await expectBadRequest(res, param, what);
    },
  );

  it("a known block the gateway cannot translate is a 400, not a 500 (and passes natively to Claude)", async () => {
    const fileImage = user([{ type: "image", source: { type: "file", file_id: "file_1" } }]);
    const res = await gw.fetch("/v1/messages", post({ ...fileImage, model: "gpt-4o-mini" }, KEY));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    // An Anthropic target takes the body as sent (issue 13's native passthrough).
    expect((await gw.fetch("/v1/messages", post(fileImage, KEY))).status).toBe(200);
  });
});

/** What Claude Code sends mid-conversation: cache breakpoints, thinking, tool results, newer blocks. */
function claudeCodeBody(model: string): Record<string, unknown> {
  return {
    model,
    max_tokens: 4096,
    stream: false,
    system: [
      { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Work in /repo." },
    ],
    tools: [
      {
        name: "Read",
        description: "Reads a file",
        input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
        cache_control: { type: "ephemeral" },
      },
    ],
    tool_choice: { type: "auto" },
    thinking: { type: "enabled", budget_tokens: 2048 },
    metadata: { user_id: "user_abc_account_123_session_456" },
    messages: [
      {
        role: "user",
        content: [{ type: "text", text: "Read the README", cache_control: { type: "ephemeral" } }],
      },
      {
        role: "assistant",
        content: [
          // Signed as the mock signs (it refuses altered thinking blocks, as Anthropic does).
          { type: "thinking", thinking: "I should read it.", signature: signatureOf("I should read it.") },
          { type: "redacted_thinking", data: "opaque" },
          { type: "text", text: "Reading it." },
          { type: "tool_use", id: "toolu_01", name: "Read", input: { path: "README.md" } },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_01",
            content: [{ type: "text", text: "# sluice" }],
            is_error: false,
            cache_control: { type: "ephemeral" },
          },
          { type: "a_block_from_next_year", payload: { anything: true } },
          { type: "text", text: "Summarise it." },
        ],
      },
    ],
    // Fields the gateway does not know pass through validation.
    service_tier: "auto",
    context_management: { edits: [] },
  };
}

describe("what real clients send still passes", () => {
  it.each(["claude-sonnet-4-5", "gpt-4o-mini"])("a Claude-Code-like body → 200 (%s)", async (model) => {
    const res = await gw.fetch("/v1/messages", post(claudeCodeBody(model), KEY));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ type: "message", role: "assistant" });
  });

  it("streams a Claude-Code-like body", async () => {
    const res = await gw.fetch(
      "/v1/messages",
      post({ ...claudeCodeBody("claude-sonnet-4-5"), stream: true }, KEY),
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("message_stop");
  });

  it("counts tokens of a Claude-Code-like body", async () => {
    const { max_tokens: _, ...body } = claudeCodeBody("claude-sonnet-4-5");
    const res = await gw.fetch("/v1/messages/count_tokens", post(body, KEY));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
  });

  it("a newer thinking mode passes", async () => {
    const res = await gw.fetch("/v1/messages", post({ ...valid, thinking: { type: "adaptive" } }, KEY));
    expect(res.status).toBe(200);
  });
});
