import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { badRequest } from "../errors";
import { estimatePromptTokens } from "../estimate";
import { callerTags } from "../metering";
import { admitAndMeter, allowedRoute } from "../proxy/admit";
import { readJsonBody } from "../proxy/body";
import { proxy } from "../proxy/handler";
import { type ChatBody, ChatRequest } from "../proxy/schemas";
import { settle } from "../proxy/settle";
import {
  anthropicOutput,
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
    const body = await readOpenAIBody(c, MessagesRequest);
    const output = anthropicOutput(body.model);
    return proxy(c, { endpoint: "chat", body, stream: body.stream === true, output }, c.get("timing"));
  });

  // Counting calls no provider, but it is a call like any other: the key's models, revocation
  // and request rate apply, and it leaves a usage row (at no cost, reserving nothing).
  api.post("/messages/count_tokens", async (c) => {
    const body = await readOpenAIBody(c, CountTokensRequest);
    c.set("tags", callerTags(c.req.raw.headers, body));
    allowedRoute(c, body.model);
    const metered = await admitAndMeter(c, c.get("timing"), {
      endpoint: "count_tokens",
      model: body.model,
      stream: false,
      estimatedTokens: 0,
      worstCaseMicros: 0,
      breakerKeys: [],
    });
    const inputTokens = estimatePromptTokens(body);
    settle(c, metered, { status: 200, errorCode: null });
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
 * raises them: key checks, limits, validation or a provider. It only names the shape on the
 * context, which `app.onError` and `app.notFound` render with; mounted before the /v1 middleware,
 * so the key check's errors take it too.
 * @example app.use("/v1/messages/*", anthropicErrors())
 */
export function anthropicErrors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("errorShape", openAIErrorToAnthropic);
    await next();
  };
}
