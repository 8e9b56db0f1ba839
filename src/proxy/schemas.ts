import * as z from "zod";

/**
 * The OpenAI request shapes the gateway checks before spending anything upstream. Objects are
 * loose: fields we don't know pass through untouched to OpenAI-compatible upstreams, so a new
 * OpenAI parameter works the day it ships.
 */

const TextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const ImagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(["auto", "low", "high"]).optional() }),
});
const OtherPart = z.looseObject({
  type: z.enum(["input_audio", "file", "refusal"]),
});
const ContentPart = z.discriminatedUnion("type", [TextPart, ImagePart, OtherPart]);
const Content = z.union([z.string(), z.array(ContentPart)]);

const ToolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const Message = z.discriminatedUnion("role", [
  z.looseObject({ role: z.enum(["system", "developer"]), content: Content, name: z.string().optional() }),
  z.looseObject({ role: z.literal("user"), content: Content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal("assistant"),
    content: Content.nullable().optional(),
    tool_calls: z.array(ToolCall).optional(),
    name: z.string().optional(),
  }),
  z.looseObject({ role: z.literal("tool"), content: Content, tool_call_id: z.string() }),
  z.looseObject({ role: z.literal("function"), content: z.string().nullable(), name: z.string() }),
]);

const Tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
]);

const ResponseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional() }),
  }),
]);

const Stop = z.union([z.string(), z.array(z.string()).max(4)]).nullable();
const common = {
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  stop: Stop.optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  seed: z.number().int().nullable().optional(),
};

export const ChatRequest = z.looseObject({
  ...common,
  messages: z.array(Message).min(1),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormat.optional(),
  logprobs: z.boolean().nullable().optional(),
});

/**
 * Caps on the work one request may ask for, at OpenAI's own limits: 2,048 inputs (or batched
 * prompts) per request, and 300,000 tokens summed over token-array inputs. Past them the answer
 * would be huge (every input is an embedding, every prompt its own completions) for no caller
 * OpenAI itself would serve.
 */
const MAX_INPUTS = 2048;
const MAX_INPUT_TOKENS = 300_000;

const TokenIds = z.array(z.number().int()).min(1).max(MAX_INPUT_TOKENS);
/** Several token arrays, with their tokens summed against the same cap as one array. */
const TokenIdLists = z
  .array(z.array(z.number().int()))
  .min(1)
  .max(MAX_INPUTS)
  .refine(
    (lists) => lists.reduce((sum, list) => sum + list.length, 0) <= MAX_INPUT_TOKENS,
    `must hold at most ${MAX_INPUT_TOKENS} tokens in all`,
  );

export const CompletionRequest = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).max(MAX_INPUTS), TokenIds, TokenIdLists]),
  /** Completions generated upstream per prompt, `n` of them returned (and every one billed). */
  best_of: z.number().int().min(1).max(20).nullable().optional(),
});

export const EmbeddingRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1).max(MAX_INPUTS), TokenIds, TokenIdLists]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

export type ChatBody = z.output<typeof ChatRequest>;
export type CompletionBody = z.output<typeof CompletionRequest>;
export type EmbeddingBody = z.output<typeof EmbeddingRequest>;
