/** POST /v1/completions: OpenAI's legacy text completions, JSON and SSE. */

import { type Frame, SSE_LF } from "./exchange";
import { DONE_FRAME, includesUsage, openaiFormat, openaiUsage } from "./openai";
import { type Conversation, planReply, type ReplyPlan } from "./reply";
import { bodyModel, bodyObject, type Route, type RouteContext, unixSeconds } from "./route";
import { splitIntoPieces } from "./text";

/** Reads a legacy completions request as a Conversation: each prompt string is one message, no overhead. */
export function openaiCompletionsConversation(body: Record<string, unknown>): Conversation {
  const prompts = Array.isArray(body.prompt) ? body.prompt : [body.prompt ?? ""];
  return {
    messages: prompts.map((p) => ({ role: "user", text: typeof p === "string" ? p : "" })),
    overheadPerMessage: 0,
    tools: [],
    toolChoice: { mode: "none" },
    maxTokens: typeof body.max_tokens === "number" ? body.max_tokens : undefined,
  };
}

function completionFrames(ctx: RouteContext, plan: ReplyPlan, includeUsage: boolean): Frame[] {
  const base = {
    id: `cmpl-mock-${ctx.id}`,
    object: "text_completion",
    created: unixSeconds(),
    model: ctx.model,
  };
  const chunk = (text: string, finish: string | null): Frame => ({
    data: JSON.stringify({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] }),
  });
  const frames = splitIntoPieces(plan.text).map((piece) => chunk(piece, null));
  frames.push(chunk("", plan.finish));
  if (includeUsage) {
    frames.push({
      data: JSON.stringify({ ...base, choices: [], usage: openaiUsage(plan.usage, ctx.model) }),
    });
  }
  frames.push(DONE_FRAME);
  return frames;
}

/** POST /v1/completions */
export const completionsRoute: Route = {
  method: "POST",
  pattern: /^\/v1\/completions$/,
  format: openaiFormat,
  rawModel: bodyModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.model === "") return ctx.exchange.error(400, "you must provide a model parameter");
    const plan = planReply(openaiCompletionsConversation(body), ctx.options);
    if (body.stream === true)
      return ctx.exchange.stream(completionFrames(ctx, plan, includesUsage(body)), SSE_LF);
    return ctx.exchange.json({
      id: `cmpl-mock-${ctx.id}`,
      object: "text_completion",
      created: unixSeconds(),
      model: ctx.model,
      choices: [{ text: plan.text, index: 0, logprobs: null, finish_reason: plan.finish }],
      usage: openaiUsage(plan.usage, ctx.model),
    });
  },
};
