/** POST /v1/messages: the Anthropic Messages API, JSON and SSE events, with Anthropic's errors and usage. */

import { cacheUse } from "./anthropic-cache";
import { type MockThinking, plannedThinking, thinkingProblem } from "./anthropic-thinking";
import { type Frame, SSE_LF } from "./exchange";
import {
  type Conversation,
  lastUserText,
  MESSAGE_OVERHEAD_TOKENS,
  type MockUsage,
  planReply,
  promptTokensOf,
  type ReplyPlan,
  textOfContent,
} from "./reply";
import { bodyModel, bodyObject, type ProviderFormat, type Route, type RouteContext } from "./route";
import { splitFragments, splitIntoPieces } from "./text";

/** Anthropic's error `type` for an HTTP status. */
function errorType(status: number): string {
  const types: Record<number, string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
  };
  return types[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

/** The Anthropic wire format. */
export const anthropicFormat: ProviderFormat = {
  name: "anthropic",
  errorBody: (status, message, id) => ({
    type: "error",
    error: { type: errorType(status), message },
    request_id: `req_mock_${id}`,
  }),
  streamErrorFrame: () => ({
    event: "error",
    data: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
  }),
  headers: (id) => ({ "request-id": `req_mock_${id}` }),
  authProblem: (headers) => {
    if (!headers["x-api-key"]) return { status: 401, message: "x-api-key header is required" };
    if (!headers["anthropic-version"])
      return { status: 400, message: "anthropic-version: header is required" };
    return undefined;
  },
};

/** Reads an Anthropic Messages request as a Conversation; the system prompt counts as one message. */
export function anthropicConversation(body: Record<string, unknown>): Conversation {
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  const system =
    body.system === undefined ? [] : [{ role: "system", text: textOfContent(body.system).join(" ") }];
  const tools = Array.isArray(body.tools) ? (body.tools as { name?: string; input_schema?: unknown }[]) : [];
  const choice = body.tool_choice as { type?: string; name?: string } | undefined;
  return {
    messages: [
      ...system,
      ...messages.map((m) => ({ role: String(m.role), text: textOfContent(m.content).join(" ") })),
    ],
    overheadPerMessage: MESSAGE_OVERHEAD_TOKENS,
    tools: tools.flatMap((t) => (t.name ? [{ name: t.name, schema: t.input_schema }] : [])),
    toolChoice:
      choice?.type === "none"
        ? { mode: "none" }
        : choice?.type === "tool" && choice.name
          ? { mode: "named", name: choice.name }
          : { mode: "auto" },
    maxTokens: typeof body.max_tokens === "number" ? body.max_tokens : undefined,
  };
}

/**
 * Anthropic's `usage`: cache reads and writes are reported apart from input_tokens, which holds
 * only the rest of the prompt; reasoning tokens are a part of output_tokens.
 */
export function anthropicUsage(usage: MockUsage): Record<string, unknown> {
  return {
    input_tokens: usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedTokens,
    cache_creation: {
      ephemeral_5m_input_tokens: usage.cacheWriteTokens - (usage.cacheWrite1hTokens ?? 0),
      ephemeral_1h_input_tokens: usage.cacheWrite1hTokens ?? 0,
    },
    output_tokens: usage.outputTokens,
    service_tier: "standard",
  };
}

const STOP_REASONS = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use" } as const;

/** A reply plan with the thinking block that comes before it, when thinking is on. */
type AnthropicPlan = ReplyPlan & { thinking: MockThinking | null };

function contentBlocks(plan: AnthropicPlan): Record<string, unknown>[] {
  const { thinking } = plan;
  const thought = thinking
    ? [{ type: "thinking", thinking: thinking.thinking, signature: thinking.signature }]
    : [];
  if (plan.toolCalls.length === 0) return [...thought, { type: "text", text: plan.text }];
  return [
    ...thought,
    ...plan.toolCalls.map((c) => ({
      type: "tool_use",
      id: c.id,
      name: c.name,
      input: JSON.parse(c.arguments),
    })),
  ];
}

function messageObject(ctx: RouteContext, plan: AnthropicPlan, streaming: boolean): Record<string, unknown> {
  const usage = anthropicUsage(plan.usage);
  return {
    id: `msg_mock_${ctx.id}`,
    type: "message",
    role: "assistant",
    model: ctx.model,
    content: streaming ? [] : contentBlocks(plan),
    stop_reason: streaming ? null : STOP_REASONS[plan.finish],
    stop_sequence: null,
    // message_start carries the input side and a token or so of output, as the real API does.
    usage: streaming ? { ...usage, output_tokens: Math.min(1, plan.usage.outputTokens) } : usage,
  };
}

interface StreamBlock {
  start: Record<string, unknown>;
  deltas: Record<string, unknown>[];
}

/** A thinking block streamed as the real API does: thinking deltas, then one signature delta. */
function thinkingBlocks(thinking: MockThinking | null): StreamBlock[] {
  if (!thinking) return [];
  const deltas: Record<string, unknown>[] = splitIntoPieces(thinking.thinking).map((piece) => ({
    type: "thinking_delta",
    thinking: piece,
  }));
  deltas.push({ type: "signature_delta", signature: thinking.signature });
  return [{ start: { type: "thinking", thinking: "", signature: "" }, deltas }];
}

/** The SSE events of a Messages answer, from message_start to message_stop. */
function messageFrames(ctx: RouteContext, plan: AnthropicPlan): Frame[] {
  const event = (data: { type: string } & Record<string, unknown>): Frame => ({
    event: data.type,
    data: JSON.stringify(data),
  });
  const frames = [event({ type: "message_start", message: messageObject(ctx, plan, true) })];
  const answerBlocks: StreamBlock[] =
    plan.toolCalls.length === 0
      ? [
          {
            start: { type: "text", text: "" },
            deltas: splitIntoPieces(plan.text).map((text) => ({ type: "text_delta", text })),
          },
        ]
      : plan.toolCalls.map((c) => ({
          start: { type: "tool_use", id: c.id, name: c.name, input: {} },
          deltas: ["", ...splitFragments(c.arguments)].map((partial_json) => ({
            type: "input_json_delta",
            partial_json,
          })),
        }));
  const blocks = [...thinkingBlocks(plan.thinking), ...answerBlocks];
  blocks.forEach((block, index) => {
    frames.push(event({ type: "content_block_start", index, content_block: block.start }));
    if (index === 0) frames.push(event({ type: "ping" }));
    for (const delta of block.deltas) frames.push(event({ type: "content_block_delta", index, delta }));
    frames.push(event({ type: "content_block_stop", index }));
  });
  const { service_tier: _tier, cache_creation: _split, ...finalUsage } = anthropicUsage(plan.usage);
  frames.push(
    event({
      type: "message_delta",
      delta: { stop_reason: STOP_REASONS[plan.finish], stop_sequence: null },
      usage: finalUsage,
    }),
  );
  frames.push(event({ type: "message_stop" }));
  return frames;
}

/**
 * The reply, with Anthropic's extras: the thinking block when thinking is on (its tokens a part
 * of the output), and cache reads and writes from the request's cache_control breakpoints unless
 * the test declared its own split.
 */
function anthropicPlan(body: Record<string, unknown>, ctx: RouteContext): AnthropicPlan {
  const conversation = anthropicConversation(body);
  const plan = planReply(conversation, ctx.options, `toolu_mock_${ctx.id}`);
  const thinking = plannedThinking(body, lastUserText(conversation.messages));
  const declared = ctx.options.cachedTokens > 0 || ctx.options.cacheWriteTokens > 0;
  const cache = declared ? null : cacheUse(body);
  const usage = { ...plan.usage };
  if (thinking) {
    usage.outputTokens += thinking.tokens;
    usage.reasoningTokens += thinking.tokens;
  }
  if (cache) {
    usage.promptTokens = Math.max(usage.promptTokens, cache.read + cache.write);
    usage.cachedTokens = cache.read;
    usage.cacheWriteTokens = cache.write;
    usage.cacheWrite1hTokens = cache.write1h;
  }
  return { ...plan, usage, thinking };
}

/** POST /v1/messages/count_tokens: the prompt as the mock counts it. */
export const countTokensRoute: Route = {
  method: "POST",
  pattern: /^\/v1\/messages\/count_tokens$/,
  format: anthropicFormat,
  rawModel: bodyModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.model === "") return ctx.exchange.error(400, "model: Field required");
    if (!Array.isArray(body.messages)) return ctx.exchange.error(400, "messages: Field required");
    return ctx.exchange.json({ input_tokens: promptTokensOf(anthropicConversation(body)) });
  },
};

/** POST /v1/messages */
export const messagesRoute: Route = {
  method: "POST",
  pattern: /^\/v1\/messages$/,
  format: anthropicFormat,
  rawModel: bodyModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.model === "") return ctx.exchange.error(400, "model: Field required");
    if (!Array.isArray(body.messages)) return ctx.exchange.error(400, "messages: Field required");
    if (typeof body.max_tokens !== "number") return ctx.exchange.error(400, "max_tokens: Field required");
    const problem = thinkingProblem(body);
    if (problem) return ctx.exchange.error(400, problem);
    const plan = anthropicPlan(body, ctx);
    if (body.stream === true) return ctx.exchange.stream(messageFrames(ctx, plan), SSE_LF);
    return ctx.exchange.json(messageObject(ctx, plan, false));
  },
};
