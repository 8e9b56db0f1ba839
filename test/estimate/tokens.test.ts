import fc from "fast-check";
import { countTokens as cl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { encodeChat, countTokens as o200k } from "gpt-tokenizer/encoding/o200k_base";
import { describe, expect, it } from "vitest";
import {
  estimatePromptTokens,
  estimateTextTokens,
  estimateUsage,
  IMAGE_TOKENS,
  maxOutputTokens,
  measurePrompt,
  promptTokenBound,
  requestWorstCase,
  textTokenBound,
  utf8Bytes,
} from "../../src/estimate";

// The real tokenizers live only here (a devDependency): the gateway carries none.
const PLAIN = { disallowedSpecial: new Set<string>() };
const real = (text: string) => Math.max(o200k(text, PLAIN), cl100k(text, PLAIN));
/** What OpenAI really counts for a chat prompt: its chat template, encoded with o200k_base. */
const realChat = (messages: { role: "system" | "user" | "assistant"; content: string }[]) =>
  encodeChat(messages, "gpt-4o", PLAIN).length;

const FOX = "The quick brown fox jumps over the lazy dog."; // 10 tokens in o200k_base, 44 bytes

/** Texts tokenizers split finely: digits, whitespace runs, CJK, emoji, rare scripts, special-token text. */
const HARD_TEXTS = [
  "",
  "hi",
  FOX,
  "1234567890".repeat(50),
  " ".repeat(300),
  "\n\t \r\n".repeat(80),
  "日本語のテキストと中文文本，한국어 텍스트".repeat(20),
  "👩‍👩‍👧‍👦🏳️‍🌈🇺🇳🧑🏽‍🚀".repeat(30),
  "ᚠᛇᚻ᛫ᛒᛦᚦ ⠊⠀⠉⠁⠝ ፍቅር ꦲꦏ᧐ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀𓁐".repeat(20),
  "<|endoftext|><|im_start|>user<|im_sep|>",
  "\ud800 lone \udfff surrogates \ud83d",
  "function f(a,b){return a?.b??[...b].map(x=>x**2)}".repeat(30),
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "\u0000\u0001\u007f\u0080\u07ff\u0800\uffff",
];

describe("the UTF-8 length, counted without allocating", () => {
  it("is what TextEncoder writes, lone surrogates (U+FFFD, 3 bytes) included", () => {
    const encoder = new TextEncoder();
    for (const text of HARD_TEXTS) expect(utf8Bytes(text), text).toBe(encoder.encode(text).length);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        expect(utf8Bytes(text)).toBe(encoder.encode(text).length);
      }),
    );
  });
});

describe("the prompt bound, against the real tokenizers (o200k_base, cl100k_base)", () => {
  it("is never below the real count of any text", () => {
    for (const text of HARD_TEXTS) expect(textTokenBound(text), text).toBeGreaterThanOrEqual(real(text));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 300 }),
          fc.string({ unit: "grapheme", maxLength: 300 }),
          fc.string({
            unit: fc.constantFrom(" ", "\n", "0", "9", "a", "é", "日", "😀", "<|"),
            maxLength: 300,
          }),
        ),
        (text) => {
          expect(textTokenBound(text)).toBeGreaterThanOrEqual(real(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is never below OpenAI's chat count (template, roles, reply primer included)", () => {
    const message = fc.record({
      role: fc.constantFrom("system" as const, "user" as const, "assistant" as const),
      content: fc.oneof(fc.constantFrom(...HARD_TEXTS), fc.string({ unit: "grapheme", maxLength: 200 })),
    });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (messages) => {
        expect(promptTokenBound({ model: "gpt-4o", messages }, "chat")).toBeGreaterThanOrEqual(
          realChat(messages),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("counts a Responses string input as a message, an embeddings input as bare text", () => {
    expect(promptTokenBound({ input: "hi" }, "responses")).toBeGreaterThanOrEqual(
      realChat([{ role: "user", content: "hi" }]),
    );
    expect(promptTokenBound({ input: "hi" }, "embeddings")).toBe(2);
    expect(promptTokenBound({ input: "hi", instructions: FOX })).toBeGreaterThanOrEqual(
      realChat([
        { role: "system", content: FOX },
        { role: "user", content: "hi" },
      ]),
    );
  });

  it("adds fixed counts for images and tool definitions, and counts output schemas", () => {
    const text = { messages: [{ role: "user", content: FOX }] };
    const image = { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } };
    const withImage = { messages: [{ role: "user", content: [{ type: "text", text: FOX }, image] }] };
    // gpt-4o's largest high-detail image is 8 tiles: 8 x 170 + 85 = 1,445 tokens.
    expect(promptTokenBound(withImage) - promptTokenBound(text)).toBeGreaterThanOrEqual(1445);
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    // Anthropic's tool-use system prompt alone is 346 tokens.
    expect(promptTokenBound({ ...text, tools }) - promptTokenBound(text)).toBeGreaterThanOrEqual(346);
    const schema = { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" } } };
    expect(promptTokenBound({ ...text, response_format: schema })).toBeGreaterThan(
      promptTokenBound(text) + 20,
    );
  });

  it("counts token-id prompts exactly, and an Anthropic system prompt as a message", () => {
    expect(promptTokenBound({ input: [1, 2, 3, 4] })).toBe(4);
    expect(promptTokenBound({ input: [[1, 2], [3]] })).toBe(3);
    expect(promptTokenBound({ prompt: FOX })).toBe(44);
    const withSystem = { system: FOX, messages: [{ role: "user", content: "hi" }] };
    expect(promptTokenBound(withSystem)).toBeGreaterThanOrEqual(
      realChat([
        { role: "system", content: FOX },
        { role: "user", content: "hi" },
      ]),
    );
  });

  it("reads hostile shapes as their JSON, never as lookups", () => {
    const body = JSON.parse(
      '{"__proto__":{"messages":[]},"messages":[{"role":"user","content":{"constructor":1}}]}',
    );
    expect(promptTokenBound(body)).toBeGreaterThan(0);
    expect(promptTokenBound(JSON.parse('{"__proto__":{"prompt":"x"}}'))).toBe(0);
  });
});

describe("estimates (usage the upstream did not report, count_tokens with no native target)", () => {
  it("are about four bytes a token, with OpenAI's cookbook framing", () => {
    expect(estimateTextTokens(FOX)).toBe(11);
    expect(estimateTextTokens("")).toBe(0);
    const body = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: FOX },
        { role: "user", content: "hello world" },
      ],
    };
    expect(estimatePromptTokens(body)).toBe(3 + 3 + Math.ceil(55 / 4) + 3);
    const asParts = {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: FOX },
            { type: "image", source: {} },
          ],
        },
      ],
    };
    expect(estimatePromptTokens(asParts)).toBe(
      estimatePromptTokens({ messages: [{ role: "user", content: FOX }] }) + IMAGE_TOKENS,
    );
  });

  it("are measured in the same pass as the bound, and never above it", () => {
    const body = {
      messages: [{ role: "user", content: `${FOX} `.repeat(1000) }],
      tools: [{ type: "function" }],
    };
    const { bound, estimate } = measurePrompt(body, "chat");
    expect(estimate).toBeLessThan(bound);
    expect(Math.abs(estimate - realChat(body.messages as never)) / estimate).toBeLessThan(0.25);
  });

  it("estimate unreported usage from the prompt estimate and the delivered text", () => {
    expect(estimateUsage(321, FOX)).toEqual({
      promptTokens: 321,
      completionTokens: 11,
      cachedReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(estimateUsage(5, "").completionTokens).toBe(0);
  });
});

describe("reservations", () => {
  it("reserve the prompt bound + max output tokens (times n), the route's default when the body sets none", () => {
    const body = { model: "m", messages: [{ role: "user", content: "hi" }] };
    const bound = promptTokenBound(body, "chat");
    const reserve = (b: Record<string, unknown>) =>
      requestWorstCase({
        endpoint: "chat",
        body: b,
        promptTokens: promptTokenBound(b, "chat"),
        maxOutputTokens: maxOutputTokens("chat", b) ?? 4096,
        targets: [],
        price: () => null,
      }).tokens;
    expect(reserve(body)).toBe(bound + 4096);
    expect(reserve({ ...body, max_tokens: 100 })).toBe(bound + 100);
    expect(reserve({ ...body, max_completion_tokens: 50, n: 3 })).toBe(bound + 150);
  });

  it("read the output cap per endpoint: max_completion_tokens first for chat, max_tokens for completions", () => {
    expect(maxOutputTokens("chat", { max_completion_tokens: 50, max_tokens: 100 })).toBe(50);
    expect(maxOutputTokens("chat", { max_completion_tokens: null, max_tokens: 100 })).toBe(100);
    expect(maxOutputTokens("chat", {})).toBeNull();
    expect(maxOutputTokens("completions", { max_completion_tokens: 50, max_tokens: 100 })).toBe(100);
    expect(maxOutputTokens("completions", {})).toBeNull();
    expect(maxOutputTokens("embeddings", { max_tokens: 100 })).toBe(0);
  });
});
