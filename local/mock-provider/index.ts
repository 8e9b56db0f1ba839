/**
 * # Mock LLM provider
 *
 * One node:http server on 127.0.0.1 speaking three wire formats, for tests and `npm run dev`.
 *
 * ```ts
 * const mock = await startMockProvider();      // { url, port, requests(), clear(), close() }
 * new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: "sk-test" });
 * new Anthropic({ baseURL: mock.url, apiKey: "sk-ant-test" });
 * fetch(`${mock.url}/v1beta/models/gemini-2.5-flash:generateContent`, { headers: { "x-goog-api-key": "k" }, ... });
 * ```
 *
 * ## Routes
 * - OpenAI (needs `Authorization: Bearer <any>`, else 401): POST /v1/chat/completions, POST /v1/completions,
 *   POST /v1/embeddings (`encoding_format: "base64"` honoured), GET /v1/models, GET /v1/models/:id.
 *   Streams end with `data: [DONE]`; the usage-only chunk (`choices: []`) comes only with
 *   `stream_options.include_usage: true`, and then every other chunk has `usage: null`.
 *   POST /v1/responses (openai-responses.ts): the Responses API, JSON and every stream event
 *   (reasoning items with summary deltas under `reasoning-tokens`, message text, function calls),
 *   ending `response.completed` / `response.incomplete`; a mid-stream fault is its `error` event;
 *   after a `function_call_output` it answers in text; `previous_response_id` is a 400 (the
 *   gateway sends whole conversations).
 * - Anthropic (needs `x-api-key` → else 401, and `anthropic-version` → else 400): POST /v1/messages.
 *   Streams: message_start, content_block_start, ping, content_block_delta (text_delta /
 *   input_json_delta), content_block_stop, message_delta, message_stop.
 * - Gemini (needs `x-goog-api-key` or `?key=`, else 403): POST /v1beta/models/{model}:generateContent,
 *   :streamGenerateContent (`?alt=sse`: SSE with CRLF; otherwise a streamed JSON array),
 *   :embedContent, :batchEmbedContents. Function calls stream whole, one per chunk, as Gemini does.
 * - Control (not recorded): GET /__mock/requests → RecordedRequest[], POST /__mock/clear.
 *
 * ## Options: header `x-mock-<name>: <value>` or model suffix `<model>+<name>=<value>[+...]`
 * Headers win. The suffix is stripped from echoed model names. The suffix is the way through a
 * gateway, which forwards the model but not arbitrary headers.
 * - `reply`: exact reply text. `words`: the default reply padded or cut to exactly N words.
 * - `cached-tokens` N: prompt tokens read from cache (OpenAI `prompt_tokens_details.cached_tokens`
 *   inside prompt_tokens; models named `deepseek*`: `prompt_cache_hit_tokens` / `_miss_tokens`;
 *   Anthropic `cache_read_input_tokens` apart from input_tokens; Gemini `cachedContentTokenCount`
 *   inside promptTokenCount).
 * - `cache-write-tokens` N: Anthropic `cache_creation_input_tokens` (also a part of the prompt).
 * - `reasoning-tokens` N: OpenAI `completion_tokens_details.reasoning_tokens` inside completion_tokens;
 *   Gemini `thoughtsTokenCount` (not in candidatesTokenCount); Anthropic: added to output_tokens.
 * - `parallel-tools` N: number of tool calls when tools are offered (default 1).
 * - `chunk-delay-ms` N: pause between stream chunks (default 0).
 * - `ttfb-ms` N: pause before the answer's first byte, its headers included (default 0): the bench's
 *   latency mode plays a distant provider with it.
 * - `fault` SPEC: see below.
 *
 * ## Replies and tokens (see reply.ts, text.ts)
 * - Reply: `Mock reply to: <first 8 words of the last user message>`, cut to the request's max tokens
 *   (max_completion_tokens / max_tokens / maxOutputTokens) in words, finish "length" / "max_tokens" /
 *   "MAX_TOKENS" when cut. Streams send one word per chunk.
 * - Tools offered and tool choice not none → tool calls to the named tool, else to the offered tools
 *   in turn; arguments from the schema (`mockToolArguments`); OpenAI and Anthropic stream them in
 *   6-character fragments.
 * - `countMockTokens(text)` = whitespace-separated words. Prompt = per message (system prompt included)
 *   words + MESSAGE_OVERHEAD_TOKENS (3); legacy completions and embeddings: words only.
 *   Output = reply words, or TOOL_CALL_TOKENS (10) per tool call, plus reasoning tokens.
 *   If cached + cache-write tokens exceed the prompt, the prompt grows to their sum.
 *   `predictMockReply` / `mockPromptTokens` / `mockEmbeddingTokens` compute it all without a server.
 *
 * ## Fault SPEC: comma-separated terms
 * - `status-<code>`: that status with the format's error body; `status-<code>-retry-<s>` adds
 *   `Retry-After: <s>` (e.g. `status-429-retry-2`, `status-529`, `status-503`, `status-401`).
 * - `hang`: never answers. `reset`: TCP reset before any byte. `slow-first-byte-<ms>`: waits first.
 * - Mid-stream, after N chunks (one chunk = one SSE event, the role chunk and message_start included;
 *   at the end if the stream is shorter): `drop-after-N` closes the socket, `stall-after-N` keeps it
 *   open silent, `malformed-after-N` sends a chunk of broken JSON then ends, `error-after-N` sends the
 *   format's in-stream error event then ends. On JSON answers drop / stall / malformed cut the body
 *   in half and error-after answers 500.
 * - `pad-N`: N bytes of padding: a `padding` field after the fields of a JSON answer or error body;
 *   on a stream, a first SSE comment line of N bytes with no line end (the frames then add to it).
 * - `times-N`: only the first N requests carrying this exact spec fail (counters reset by clear()).
 *   E.g. `gpt-4o+fault=status-503,times-2`.
 */

export { anthropicUsage } from "./anthropic";
export { mockEmbedding } from "./embedding";
export { type Fault, parseFault } from "./faults";
export { geminiUsageMetadata } from "./gemini";
export { DEFAULT_GEMINI_DIMENSIONS } from "./gemini-embed";
export { isDeepSeekModel, openaiUsage } from "./openai";
export { defaultOpenAIDimensions, mockEmbeddingTokens } from "./openai-embeddings";
export { MOCK_MODEL_IDS } from "./openai-models";
export { type MockOptions, OPTION_NAMES, readMockOptions, splitModelName } from "./options";
export { type MockTextEndpoint, mockPromptTokens, predictMockReply } from "./predict";
export type { RecordedRequest } from "./recorder";
export {
  MESSAGE_OVERHEAD_TOKENS,
  type MockToolCall,
  type MockUsage,
  mockToolArguments,
  type ReplyPlan,
  TOOL_CALL_TOKENS,
} from "./reply";
export { type MockProvider, startMockProvider } from "./server";
export { countMockTokens, FILLER_WORDS, mockReplyText } from "./text";
