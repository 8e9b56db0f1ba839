import * as z from "zod";

/**
 * The Responses API request (`POST /v1/responses`), checked before anything is spent. Objects are
 * loose (a new parameter reaches a native upstream the day it ships); what the gateway itself
 * reads is typed, and counts are capped.
 */

/** Most input items one request may carry (OpenAI's own conversations stay far below it). */
export const MAX_INPUT_ITEMS = 2048;

const Part = z.looseObject({ type: z.string().min(1).max(64) });
const MessageContent = z.union([z.string(), z.array(Part).max(MAX_INPUT_ITEMS)]);

/** A message item: `{role, content}` (the short form) or with `type: "message"`. */
const MessageItem = z.looseObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: MessageContent,
});

const FunctionCallItem = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string().min(1).max(256),
  name: z.string().min(1).max(128),
  arguments: z.string(),
});

const FunctionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1).max(256),
  output: z.union([z.string(), z.array(Part).max(MAX_INPUT_ITEMS)]),
});

const ITEM_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ["message", MessageItem],
  ["function_call", FunctionCallItem],
  ["function_call_output", FunctionCallOutputItem],
]);

/**
 * An input item, checked by its `type` (a message when it has none), so a bad item names its own
 * bad field. Other items (reasoning, built-in tool calls) go as they are to native upstreams.
 */
const InputItem = z.looseObject({ type: z.string().min(1).max(64).optional() }).superRefine((item, ctx) => {
  const schema = ITEM_SCHEMAS.get(item.type ?? "message");
  const result = schema?.safeParse(item);
  for (const issue of result?.error?.issues ?? []) {
    ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
  }
});

const FunctionTool = z.looseObject({
  type: z.literal("function"),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

/** Built-in tools (web_search, file_search, code_interpreter...): only native upstreams run them. */
const BuiltInTool = z.looseObject({ type: z.string().min(1).max(64) });

const ToolChoice = z.union([
  z.enum(["none", "auto", "required"]),
  z.looseObject({ type: z.literal("function"), name: z.string().min(1) }),
  z.looseObject({ type: z.string().min(1).max(64) }),
]);

const TextFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    name: z.string().min(1).max(64),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

/** The id of a response this gateway stored: `resp_` and 32 hex digits. */
export const RESPONSE_ID = /^resp_[0-9a-f]{32}$/;

export const ResponsesRequest = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([z.string(), z.array(InputItem).max(MAX_INPUT_ITEMS)]).optional(),
  instructions: z.string().nullable().optional(),
  tools: z
    .array(z.union([FunctionTool, BuiltInTool]))
    .max(512)
    .optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z.looseObject({ format: TextFormat.optional() }).nullable().optional(),
  reasoning: z
    .looseObject({
      effort: z.enum(["minimal", "low", "medium", "high", "none", "xhigh"]).nullable().optional(),
      summary: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  previous_response_id: z.string().max(64).nullable().optional(),
  background: z.literal(false).nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
  user: z.string().max(256).optional(),
});

export type ResponsesBody = z.output<typeof ResponsesRequest>;
export type InputItemBody = z.output<typeof InputItem>;
