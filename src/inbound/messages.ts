import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../app";
import { badRequest, type OpenAIErrorBody } from "../errors";
import { callerTags } from "../metering";
import { readJsonBody } from "../proxy/body";
import { admitAndMeter, allowedRoute, finish, proxy } from "../proxy/handler";
import { anthropicOutput } from "../proxy/output";
import { type ChatBody, ChatRequest } from "../proxy/schemas";
import {
  anthropicRequestToOpenAI,
  CountTokensRequest,
  MessagesRequest,
  openAIErrorToAnthropic,
} from "./anthropic";

/**
 * The Anthropic-compatible API: `POST /v1/messages` (and `/v1/messages/count_tokens`). Requests
 * are validated against Anthropic's request shape, become OpenAI chat bodies, go through the same
 * pipeline (keys, limits, routing to any provider, metering), and come back as Anthropic
 * messages and events, so `@anthropic-ai/sdk` works as is.
 * @example app.route("/v1", messagesRoutes())
 */
export function messagesRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.post("/messages", async (c) => {
    const services = c.get("services");
    const body = await readOpenAIBody(c, MessagesRequest);
    return proxy(
      c,
      {
        endpoint: "chat",
        body,
        stream: body.stream === true,
        output: anthropicOutput(body.model),
        estimatedPromptTokens: services.estimatePromptTokens("chat", body),
        maxOutputTokens: body.max_tokens ?? body.max_completion_tokens ?? null,
      },
      c.get("timing"),
    );
  });

  // Counting calls no provider, but it is a call like any other: the key's models, revocation
  // and request rate apply, and it leaves a usage row (at no cost, reserving nothing).
  api.post("/messages/count_tokens", async (c) => {
    const services = c.get("services");
    const body = await readOpenAIBody(c, CountTokensRequest);
    c.set("tags", callerTags(c.req.raw.headers, body));
    allowedRoute(c, body.model);
    const { record, admission } = await admitAndMeter(c, c.get("timing"), {
      endpoint: "count_tokens",
      model: body.model,
      stream: false,
      estimatedTokens: 0,
      worstCaseMicros: 0,
      breakerKeys: [],
    });
    const inputTokens = services.estimatePromptTokens("chat", body);
    c.executionCtx.waitUntil(finish(admission, record.finish({ status: 200, errorCode: null })));
    return c.json({ input_tokens: inputTokens });
  });

  return api;
}

/**
 * Reads and validates an Anthropic body (400 naming the field), then translates it. The OpenAI
 * check after translation is a backstop: what the translation cannot express is a 400 too.
 */
async function readOpenAIBody(
  c: Context<AppEnv>,
  schema: typeof MessagesRequest | typeof CountTokensRequest,
): Promise<ChatBody> {
  const { max_body_bytes, body_timeout_ms } = c.get("services").config;
  const body = await readJsonBody(c.req.raw, schema, max_body_bytes, body_timeout_ms);
  const translated = ChatRequest.safeParse(anthropicRequestToOpenAI(body));
  if (translated.success) return translated.data;
  const issue = translated.error.issues[0];
  throw badRequest(
    `The request cannot be carried to the model: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}.`,
    null,
    "invalid_value",
  );
}

/**
 * Errors on the Anthropic route in Anthropic's shape (`{"type":"error","error":{...}}`), whatever
 * produced them: key checks, limits, validation or a provider.
 */
export function anthropicErrors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status < 400 || !c.res.headers.get("content-type")?.includes("application/json")) return;
    const body = (await c.res.clone().json()) as OpenAIErrorBody;
    if (!body.error) return;
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    c.res = new Response(JSON.stringify(openAIErrorToAnthropic(c.res.status, body)), {
      status: c.res.status,
      headers,
    });
  };
}
