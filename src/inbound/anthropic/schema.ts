import * as z from "zod";

/**
 * Anthropic's Messages request (`POST /v1/messages`, and `/v1/messages/count_tokens` where
 * `max_tokens` is optional), checked before anything is translated, reserved or sent. Ranges follow
 * Anthropic's API reference. Objects are loose (fields we don't know pass), and so are block and
 * tool types: a block type this gateway has never heard of passes validation (newer clients send
 * them); the known ones are checked field by field, so a 400 names the exact field.
 */

/**
 * An object keyed by its `type`: known types must match their schema (issues keep their paths),
 * unknown types pass as they are.
 * @example typed(new Map([["text", TextBlock]]))
 */
function typed(known: ReadonlyMap<string, z.ZodType>, typeSchema: z.ZodType = z.string()) {
  return z.looseObject({ type: typeSchema }).superRefine((value, ctx) => {
    const schema = known.get(typeof value.type === "string" ? value.type : "");
    if (!schema) return;
    const result = schema.safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue });
  });
}

const CacheControl = z.looseObject({ type: z.string() }).nullable().optional();

const TextBlock = z.looseObject({ type: z.literal("text"), text: z.string(), cache_control: CacheControl });
/** System prompts hold text blocks only (checked this way so a 400 names the bad field). */
const SystemBlock = typed(new Map([["text", TextBlock]]), z.literal("text"));

const MediaSource = typed(
  new Map<string, z.ZodType>([
    ["base64", z.looseObject({ media_type: z.string(), data: z.string() })],
    ["url", z.looseObject({ url: z.string().min(1) })],
  ]),
);
const ImageBlock = z.looseObject({ source: MediaSource });
const DocumentBlock = z.looseObject({ source: MediaSource });

/** What a tool result may hold (text and images are carried; other blocks are dropped). */
const ToolResultContentBlock = typed(
  new Map<string, z.ZodType>([
    ["text", TextBlock],
    ["image", ImageBlock],
    ["document", DocumentBlock],
  ]),
);

const ContentBlock = typed(
  new Map<string, z.ZodType>([
    ["text", TextBlock],
    ["image", ImageBlock],
    ["document", DocumentBlock],
    [
      "tool_use",
      z.looseObject({
        id: z.string().min(1),
        name: z.string().min(1),
        input: z.record(z.string(), z.unknown()),
      }),
    ],
    [
      "tool_result",
      z.looseObject({
        tool_use_id: z.string().min(1),
        content: z.union([z.string(), z.array(ToolResultContentBlock)]).optional(),
        is_error: z.boolean().optional(),
      }),
    ],
    ["thinking", z.looseObject({ thinking: z.string() })],
    ["redacted_thinking", z.looseObject({ data: z.string() })],
  ]),
);

const Message = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(ContentBlock)]),
});

/** A custom tool: what a client defines. Server tools (`bash_20250124`, `web_search_...`) pass here. */
const CustomTool = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});
const Tool = typed(
  new Map<string, z.ZodType>([
    ["custom", CustomTool],
    ["", CustomTool],
  ]),
  z.string().nullable().optional(),
);

const parallel = { disable_parallel_tool_use: z.boolean().optional() };
const ToolChoice = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("auto"), ...parallel }),
  z.looseObject({ type: z.literal("any"), ...parallel }),
  z.looseObject({ type: z.literal("tool"), name: z.string().min(1), ...parallel }),
  z.looseObject({ type: z.literal("none") }),
]);

/** `enabled` needs its budget (at least 1,024 tokens); newer modes pass and are not translated. */
const Thinking = typed(
  new Map<string, z.ZodType>([["enabled", z.looseObject({ budget_tokens: z.int().min(1024) })]]),
);

/** `POST /v1/messages`. */
export const MessagesRequest = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.int().min(1),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(SystemBlock)]).optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  thinking: Thinking.optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
  stream: z.boolean().optional(),
});

/** `POST /v1/messages/count_tokens`: the same request, where `max_tokens` may be left out. */
export const CountTokensRequest = MessagesRequest.partial({ max_tokens: true });

export type MessagesBody = z.output<typeof MessagesRequest>;
export type CountTokensBody = z.output<typeof CountTokensRequest>;
