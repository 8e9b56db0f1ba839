/** Gemini generateContent / streamGenerateContent, with Google's error shape and usageMetadata. */

import { type Frame, JSON_ARRAY, SSE_CRLF } from "./exchange";
import {
  type Conversation,
  MESSAGE_OVERHEAD_TOKENS,
  type MockUsage,
  planReply,
  promptTokensOf,
  type ReplyPlan,
  textOfContent,
} from "./reply";
import { bodyObject, type ProviderFormat, type Route, type RouteContext } from "./route";
import { splitIntoPieces } from "./text";

/** Google's RPC status name for an HTTP status. */
function statusName(status: number): string {
  const names: Record<number, string> = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
  };
  return names[status] ?? "UNKNOWN";
}

/** The Gemini wire format. */
export const geminiFormat: ProviderFormat = {
  name: "gemini",
  errorBody: (status, message) => ({ error: { code: status, message, status: statusName(status) } }),
  streamErrorFrame: () => ({
    data: JSON.stringify({
      error: { code: 500, message: "An internal error has occurred.", status: "INTERNAL" },
    }),
  }),
  headers: () => ({}),
  authProblem: (headers, query) =>
    headers["x-goog-api-key"] || query.key
      ? undefined
      : {
          status: 403,
          message:
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        },
};

/** The model in a Gemini path (`/v1beta/models/{model}:method`), URL-decoded. */
export function geminiPathModel(params: string[]): string {
  return decodeURIComponent(params[0] ?? "");
}

/** Reads a Gemini generateContent request as a Conversation; systemInstruction counts as one message. */
export function geminiConversation(body: Record<string, unknown>): Conversation {
  const contents = Array.isArray(body.contents) ? (body.contents as Record<string, unknown>[]) : [];
  const system =
    body.systemInstruction === undefined
      ? []
      : [{ role: "system", text: textOfContent(body.systemInstruction).join(" ") }];
  const declarations = (Array.isArray(body.tools) ? body.tools : []).flatMap(
    (t: {
      functionDeclarations?: { name?: string; parameters?: unknown; parametersJsonSchema?: unknown }[];
    }) => t.functionDeclarations ?? [],
  );
  const calling = (
    body.toolConfig as { functionCallingConfig?: { mode?: string; allowedFunctionNames?: string[] } }
  )?.functionCallingConfig;
  const forced = calling?.mode === "ANY" ? calling.allowedFunctionNames?.[0] : undefined;
  const max = (body.generationConfig as { maxOutputTokens?: unknown } | undefined)?.maxOutputTokens;
  return {
    messages: [
      ...system,
      ...contents.map((c) => ({
        role: c.role === "model" ? "assistant" : "user",
        text: textOfContent(c.parts).join(" "),
      })),
    ],
    overheadPerMessage: MESSAGE_OVERHEAD_TOKENS,
    tools: declarations.flatMap((d) =>
      d.name ? [{ name: d.name, schema: d.parameters ?? d.parametersJsonSchema }] : [],
    ),
    toolChoice:
      calling?.mode === "NONE"
        ? { mode: "none" }
        : forced
          ? { mode: "named", name: forced }
          : { mode: "auto" },
    maxTokens: typeof max === "number" ? max : undefined,
  };
}

/**
 * Gemini's `usageMetadata`: cachedContentTokenCount is a part of promptTokenCount, thoughtsTokenCount
 * is apart from candidatesTokenCount, and totalTokenCount adds prompt, candidates and thoughts.
 */
export function geminiUsageMetadata(usage: MockUsage): Record<string, unknown> {
  const candidates = usage.outputTokens - usage.reasoningTokens;
  return {
    promptTokenCount: usage.promptTokens,
    candidatesTokenCount: candidates,
    totalTokenCount: usage.promptTokens + usage.outputTokens,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: usage.promptTokens }],
    ...(usage.cachedTokens > 0
      ? {
          cachedContentTokenCount: usage.cachedTokens,
          cacheTokensDetails: [{ modality: "TEXT", tokenCount: usage.cachedTokens }],
        }
      : {}),
    ...(usage.reasoningTokens > 0 ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
  };
}

const FINISH_REASONS = { stop: "STOP", length: "MAX_TOKENS", tool_calls: "STOP" } as const;

/** The answer's parts, split the way the stream sends them: one word, or one whole function call, each. */
function partGroups(plan: ReplyPlan): Record<string, unknown>[][] {
  if (plan.toolCalls.length > 0) {
    return plan.toolCalls.map((c) => [{ functionCall: { name: c.name, args: JSON.parse(c.arguments) } }]);
  }
  const pieces = splitIntoPieces(plan.text);
  return (pieces.length === 0 ? [""] : pieces).map((text) => [{ text }]);
}

function response(
  ctx: RouteContext,
  parts: unknown[],
  usageMetadata: unknown,
  finish?: string,
): Record<string, unknown> {
  return {
    candidates: [
      { content: { parts, role: "model" }, ...(finish ? { finishReason: finish } : {}), index: 0 },
    ],
    usageMetadata,
    modelVersion: ctx.model,
    responseId: `mock-${ctx.id}`,
  };
}

/** Stream chunks: each carries the prompt count; the last one the finish reason and the full usage. */
function generateFrames(ctx: RouteContext, plan: ReplyPlan): Frame[] {
  const groups = partGroups(plan);
  const partial = { promptTokenCount: plan.usage.promptTokens, totalTokenCount: plan.usage.promptTokens };
  return groups.map((parts, i) => {
    const last = i === groups.length - 1;
    const usage = last ? geminiUsageMetadata(plan.usage) : partial;
    return {
      data: JSON.stringify(response(ctx, parts, usage, last ? FINISH_REASONS[plan.finish] : undefined)),
    };
  });
}

/** POST /v1beta/models/{model}:generateContent and :streamGenerateContent (SSE with ?alt=sse, else a JSON array). */
export const generateContentRoute: Route = {
  method: "POST",
  pattern: /^\/(?:v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent)$/,
  format: geminiFormat,
  rawModel: geminiPathModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return ctx.exchange.error(400, "* GenerateContentRequest.contents: contents is not specified");
    }
    const plan = planReply(geminiConversation(body), ctx.options);
    if (ctx.params[1] === "streamGenerateContent") {
      return ctx.exchange.stream(generateFrames(ctx, plan), ctx.query.alt === "sse" ? SSE_CRLF : JSON_ARRAY);
    }
    const parts = plan.toolCalls.length > 0 ? partGroups(plan).flat() : [{ text: plan.text }];
    return ctx.exchange.json(
      response(ctx, parts, geminiUsageMetadata(plan.usage), FINISH_REASONS[plan.finish]),
    );
  },
};

/** POST /v1beta/models/{model}:countTokens: contents (or a whole generateContentRequest) as the mock counts them. */
export const countTokensRoute: Route = {
  method: "POST",
  pattern: /^\/(?:v1beta|v1)\/models\/([^/:]+):countTokens$/,
  format: geminiFormat,
  rawModel: geminiPathModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    const request =
      body.generateContentRequest === undefined ? body : bodyObject(body.generateContentRequest);
    if (!Array.isArray(request.contents)) {
      return ctx.exchange.error(400, "* CountTokensRequest.contents: contents is not specified");
    }
    return ctx.exchange.json({ totalTokens: promptTokensOf(geminiConversation(request)) });
  },
};
