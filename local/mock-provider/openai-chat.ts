/** POST /v1/chat/completions: OpenAI chat completions, JSON and SSE (tool call deltas included). */

import { type Frame, SSE_LF } from "./exchange";
import { DONE_FRAME, includesUsage, openaiFormat, openaiUsage } from "./openai";
import {
  type Conversation,
  MESSAGE_OVERHEAD_TOKENS,
  planReply,
  type ReplyPlan,
  textOfContent,
} from "./reply";
import { bodyModel, bodyObject, type Route, type RouteContext, unixSeconds } from "./route";
import { splitFragments, splitIntoPieces } from "./text";

/** Reads an OpenAI chat request as a Conversation. */
export function openaiChatConversation(body: Record<string, unknown>): Conversation {
  const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : [];
  const tools = Array.isArray(body.tools)
    ? (body.tools as { function?: { name?: string; parameters?: unknown } }[])
    : [];
  const choice = body.tool_choice as string | { function?: { name?: string } } | undefined;
  const max = body.max_completion_tokens ?? body.max_tokens;
  return {
    messages: messages.map((m) => ({ role: String(m.role), text: textOfContent(m.content).join(" ") })),
    overheadPerMessage: MESSAGE_OVERHEAD_TOKENS,
    tools: tools.flatMap((t) =>
      t.function?.name ? [{ name: t.function.name, schema: t.function.parameters }] : [],
    ),
    toolChoice:
      choice === "none"
        ? { mode: "none" }
        : typeof choice === "object" && choice.function?.name
          ? { mode: "named", name: choice.function.name }
          : { mode: "auto" },
    maxTokens: typeof max === "number" ? max : undefined,
  };
}

function chatMessage(plan: ReplyPlan): Record<string, unknown> {
  if (plan.toolCalls.length === 0) {
    return { role: "assistant", content: plan.text, refusal: null, annotations: [] };
  }
  return {
    role: "assistant",
    content: null,
    refusal: null,
    annotations: [],
    tool_calls: plan.toolCalls.map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: c.arguments },
    })),
  };
}

/** The stream frames of a chat answer: role chunk, content or tool-call deltas, finish, usage, [DONE]. */
function chatFrames(ctx: RouteContext, plan: ReplyPlan, includeUsage: boolean): Frame[] {
  const base = {
    id: `chatcmpl-mock-${ctx.id}`,
    object: "chat.completion.chunk",
    created: unixSeconds(),
    model: ctx.model,
    system_fingerprint: "fp_mock",
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): Frame => ({
    data: JSON.stringify({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    }),
  });
  const frames: Frame[] = [];
  if (plan.toolCalls.length === 0) {
    frames.push(chunk({ role: "assistant", content: "", refusal: null }));
    for (const piece of splitIntoPieces(plan.text)) frames.push(chunk({ content: piece }));
  }
  plan.toolCalls.forEach((call, index) => {
    const opening = { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } };
    const first = index === 0 ? { role: "assistant", content: null, refusal: null } : {};
    frames.push(chunk({ ...first, tool_calls: [opening] }));
    for (const fragment of splitFragments(call.arguments)) {
      frames.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
    }
  });
  frames.push(chunk({}, plan.finish));
  if (includeUsage) {
    frames.push({
      data: JSON.stringify({ ...base, choices: [], usage: openaiUsage(plan.usage, ctx.model) }),
    });
  }
  frames.push(DONE_FRAME);
  return frames;
}

/** POST /v1/chat/completions */
export const chatCompletionsRoute: Route = {
  method: "POST",
  pattern: /^\/v1\/chat\/completions$/,
  format: openaiFormat,
  rawModel: bodyModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.model === "") return ctx.exchange.error(400, "you must provide a model parameter");
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return ctx.exchange.error(400, "Missing required parameter: 'messages'.");
    }
    const plan = planReply(openaiChatConversation(body), ctx.options, `call_mock_${ctx.id}`);
    if (body.stream === true) return ctx.exchange.stream(chatFrames(ctx, plan, includesUsage(body)), SSE_LF);
    return ctx.exchange.json({
      id: `chatcmpl-mock-${ctx.id}`,
      object: "chat.completion",
      created: unixSeconds(),
      model: ctx.model,
      choices: [{ index: 0, message: chatMessage(plan), logprobs: null, finish_reason: plan.finish }],
      usage: openaiUsage(plan.usage, ctx.model),
      service_tier: "default",
      system_fingerprint: "fp_mock",
    });
  },
};
