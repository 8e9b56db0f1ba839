/**
 * POST /v1/responses: OpenAI's Responses API, JSON and every stream event (reasoning items with
 * summary deltas, message text deltas, function calls with argument deltas, the final
 * `response.completed` / `response.incomplete` with usage), faults included.
 */

import { type Frame, SSE_LF } from "./exchange";
import { openaiFormat } from "./openai";
import {
  type Conversation,
  type ConversationMessage,
  MESSAGE_OVERHEAD_TOKENS,
  type MockUsage,
  planReply,
  type ReplyPlan,
  textOfContent,
} from "./reply";
import {
  bodyModel,
  bodyObject,
  type ProviderFormat,
  type Route,
  type RouteContext,
  unixSeconds,
} from "./route";
import { splitFragments, splitIntoPieces } from "./text";

type Json = Record<string, unknown>;

/** The reasoning summary the mock gives when it reports reasoning tokens. */
export const MOCK_REASONING_SUMMARY = "Mock reasoning summary.";

/** OpenAI's wire format, except that a stream fails with the Responses API's `error` event. */
const responsesFormat: ProviderFormat = {
  ...openaiFormat,
  streamErrorFrame: (): Frame => ({
    event: "error",
    data: JSON.stringify({
      type: "error",
      code: "server_error",
      message: "The server had an error while processing your request.",
      param: null,
      sequence_number: 0,
    }),
  }),
};

/** One input item as a conversation message: text of messages, tool outputs as tool turns. */
function itemMessage(item: Json): ConversationMessage[] {
  if (item.type === "function_call_output")
    return [{ role: "tool", text: textOfContent(item.output).join(" ") }];
  if (item.type === "function_call" || item.type === "reasoning") return [];
  return [{ role: String(item.role ?? "user"), text: textOfContent(item.content).join(" ") }];
}

/** Reads a Responses request as a Conversation; after a function call's output it answers in text. */
export function responsesConversation(body: Json): Conversation {
  const messages: ConversationMessage[] = [];
  if (typeof body.instructions === "string") messages.push({ role: "system", text: body.instructions });
  if (typeof body.input === "string") messages.push({ role: "user", text: body.input });
  else if (Array.isArray(body.input))
    for (const item of body.input) messages.push(...itemMessage(bodyObject(item)));
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  const choice = body.tool_choice as string | Json | undefined;
  // After a tool's output the mock answers in text, as a model does once it has what it asked for.
  const last = Array.isArray(body.input) ? bodyObject(body.input.at(-1)) : {};
  const answered = last.type === "function_call_output";
  return {
    messages,
    overheadPerMessage: MESSAGE_OVERHEAD_TOKENS,
    tools: tools.flatMap((t) =>
      t.type === "function" && typeof t.name === "string" ? [{ name: t.name, schema: t.parameters }] : [],
    ),
    toolChoice:
      choice === "none" || answered
        ? { mode: "none" }
        : typeof choice === "object" && typeof choice.name === "string"
          ? { mode: "named", name: choice.name }
          : { mode: "auto" },
    maxTokens: typeof body.max_output_tokens === "number" ? body.max_output_tokens : undefined,
  };
}

/** The Responses API's usage object. */
function responsesUsage(usage: MockUsage): Json {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.promptTokens + usage.outputTokens,
  };
}

/** The output items of an answer, whole: a reasoning item (with reasoning tokens), then text or function calls. */
function outputItems(ctx: RouteContext, plan: ReplyPlan): Json[] {
  const items: Json[] = [];
  if (plan.usage.reasoningTokens > 0) {
    items.push({
      type: "reasoning",
      id: `rs_mock_${ctx.id}`,
      summary: [{ type: "summary_text", text: MOCK_REASONING_SUMMARY }],
    });
  }
  if (plan.toolCalls.length === 0) {
    items.push({
      type: "message",
      id: `msg_mock_${ctx.id}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: plan.text, annotations: [], logprobs: [] }],
    });
  }
  plan.toolCalls.forEach((call, i) => {
    items.push({
      type: "function_call",
      id: `fc_mock_${ctx.id}_${i}`,
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: "completed",
    });
  });
  return items;
}

/** The Response object; `output` and `usage` empty while it is in progress. */
function responseObject(ctx: RouteContext, body: Json, plan: ReplyPlan, done: boolean): Json {
  const incomplete = plan.finish === "length";
  return {
    id: `resp_mock_${ctx.id}`,
    object: "response",
    created_at: unixSeconds(),
    status: !done ? "in_progress" : incomplete ? "incomplete" : "completed",
    error: null,
    incomplete_details: done && incomplete ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: ctx.model,
    output: done ? outputItems(ctx, plan) : [],
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    store: body.store !== false,
    text: body.text ?? { format: { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    usage: done ? responsesUsage(plan.usage) : null,
  };
}

/** Each item's events, from `output_item.added` to `output_item.done`. */
function itemEvents(item: Json, outputIndex: number): Json[] {
  const at = { item_id: item.id, output_index: outputIndex };
  const added = { type: "response.output_item.added", output_index: outputIndex };
  const done = { type: "response.output_item.done", output_index: outputIndex, item };
  if (item.type === "reasoning") {
    const part = { type: "summary_text", text: MOCK_REASONING_SUMMARY };
    return [
      { ...added, item: { ...item, summary: [] } },
      { type: "response.reasoning_summary_part.added", ...at, summary_index: 0, part: { ...part, text: "" } },
      ...splitIntoPieces(part.text).map((delta) => ({
        type: "response.reasoning_summary_text.delta",
        ...at,
        summary_index: 0,
        delta,
      })),
      { type: "response.reasoning_summary_text.done", ...at, summary_index: 0, text: part.text },
      { type: "response.reasoning_summary_part.done", ...at, summary_index: 0, part },
      done,
    ];
  }
  if (item.type === "message") {
    const text = String((item.content as Json[])[0]?.text ?? "");
    const part = { type: "output_text", text, annotations: [] };
    return [
      { ...added, item: { ...item, status: "in_progress", content: [] } },
      { type: "response.content_part.added", ...at, content_index: 0, part: { ...part, text: "" } },
      ...splitIntoPieces(text).map((delta) => ({
        type: "response.output_text.delta",
        ...at,
        content_index: 0,
        delta,
        logprobs: [],
      })),
      { type: "response.output_text.done", ...at, content_index: 0, text, logprobs: [] },
      { type: "response.content_part.done", ...at, content_index: 0, part },
      done,
    ];
  }
  const args = String(item.arguments ?? "");
  return [
    { ...added, item: { ...item, arguments: "", status: "in_progress" } },
    ...splitFragments(args).map((delta) => ({
      type: "response.function_call_arguments.delta",
      ...at,
      delta,
    })),
    { type: "response.function_call_arguments.done", ...at, name: item.name, arguments: args },
    done,
  ];
}

/** Every event of a streamed answer, numbered. */
function responseFrames(ctx: RouteContext, body: Json, plan: ReplyPlan): Frame[] {
  const final = responseObject(ctx, body, plan, true);
  const started = responseObject(ctx, body, plan, false);
  const events: Json[] = [
    { type: "response.created", response: started },
    { type: "response.in_progress", response: started },
    ...(final.output as Json[]).flatMap((item, i) => itemEvents(item, i)),
    { type: final.status === "incomplete" ? "response.incomplete" : "response.completed", response: final },
  ];
  return events.map((event, sequence) => ({
    event: String(event.type),
    data: JSON.stringify({ ...event, sequence_number: sequence }),
  }));
}

/** POST /v1/responses */
export const responsesRoute: Route = {
  method: "POST",
  pattern: /^\/v1\/responses$/,
  format: responsesFormat,
  rawModel: bodyModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.model === "") return ctx.exchange.error(400, "Missing required parameter: 'model'.");
    if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
      return ctx.exchange.error(
        400,
        `Previous response with id '${String(body.previous_response_id)}' not found.`,
      );
    }
    const plan = planReply(responsesConversation(body), ctx.options, `call_mock_${ctx.id}`);
    if (body.stream === true) return ctx.exchange.stream(responseFrames(ctx, body, plan), SSE_LF);
    return ctx.exchange.json(responseObject(ctx, body, plan, true));
  },
};
