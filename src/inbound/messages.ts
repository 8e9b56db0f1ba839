import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../context";
import { badRequest, GatewayError } from "../errors";
import { estimatePromptTokens } from "../estimate";
import { callerTags } from "../metering";
import { anthropicCountTokensRequest, anthropicPassthrough } from "../providers/anthropic";
import { admitAndMeter, allowedRoute } from "../proxy/admit";
import { readCheckedJsonBody } from "../proxy/body";
import { proxy } from "../proxy/handler";
import type { NativeCall } from "../proxy/request";
import { type ChatBody, ChatRequest } from "../proxy/schemas";
import { settle } from "../proxy/settle";
import {
  anthropicNativeOutput,
  anthropicOutput,
  anthropicRequestToOpenAI,
  type CountTokensBody,
  CountTokensRequest,
  type MessagesBody,
  MessagesRequest,
  openAIErrorToAnthropic,
} from "./anthropic";
import { nativeCount } from "./native-count";

/**
 * The Anthropic API: `POST /v1/messages` (and `/v1/messages/count_tokens`). Requests are validated
 * against Anthropic's request shape and go through the same pipeline (keys, limits, routing,
 * metering). An Anthropic target gets the caller's body as sent (model rewritten) with its
 * `anthropic-version` / `anthropic-beta` headers, and the caller gets its answer byte for byte;
 * other targets get the OpenAI translation, answered back in Anthropic's shapes.
 * @example app.route("/v1", messagesRoutes())
 */
export function messagesRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.post("/messages", async (c) => {
    const { original, parsed } = await readAnthropicBody(c, MessagesRequest);
    const translation = translate(parsed);
    const native: NativeCall = {
      kind: "anthropic",
      adapter: anthropicPassthrough(c.req.raw.headers),
      body: original,
      output: anthropicNativeOutput(parsed.model),
      untranslatable: translation.error,
    };
    // Untranslatable (server tools, say), the body is still estimated in its own shape.
    const body = translation.body ?? (parsed as MessagesBody & Record<string, unknown>);
    const output = anthropicOutput(parsed.model);
    return proxy(
      c,
      { endpoint: "chat", body, stream: parsed.stream === true, output, native },
      c.get("timing"),
    );
  });

  // Counting is a call like any other: the key's models, revocation and request rate apply, and
  // it leaves a usage row (at no cost, reserving nothing). Anthropic targets count natively.
  api.post("/messages/count_tokens", async (c) => {
    const { original, parsed } = await readAnthropicBody(c, CountTokensRequest);
    // Attribution as on /v1/messages: metadata.user_id is the user.
    c.set("tags", callerTags(c.req.raw.headers, translate(parsed).body ?? parsed));
    const route = allowedRoute(c, parsed.model);
    const metered = await admitAndMeter(c, c.get("timing"), {
      endpoint: "count_tokens",
      model: parsed.model,
      stream: false,
      estimatedTokens: 0,
      worstCaseMicros: 0,
      breakerKeys: [],
    });
    const headers = c.req.raw.headers;
    const native = await nativeCount(c, route, "anthropic", (t) =>
      anthropicCountTokensRequest(original, t, headers),
    );
    settle(c, metered, { status: 200, errorCode: null });
    const counted = native?.input_tokens;
    return c.json({ input_tokens: typeof counted === "number" ? counted : estimatePromptTokens(parsed) });
  });

  return api;
}

/** Reads and validates an Anthropic body (400 naming the field), keeping the original as sent. */
function readAnthropicBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S) {
  const { max_body_bytes, body_timeout_ms } = c.get("services").config;
  return readCheckedJsonBody(c.req.raw, schema, max_body_bytes, body_timeout_ms);
}

/**
 * The OpenAI translation of an Anthropic body for targets of other kinds, or why there is none.
 * The OpenAI check after translation is a backstop: what it cannot express is a 400 too.
 */
function translate(body: MessagesBody | CountTokensBody): {
  body: ChatBody | null;
  error: GatewayError | null;
} {
  let openai: unknown;
  try {
    openai = anthropicRequestToOpenAI(body);
  } catch (err) {
    if (err instanceof GatewayError) return { body: null, error: err };
    throw err;
  }
  const checked = ChatRequest.safeParse(openai);
  if (checked.success) return { body: checked.data, error: null };
  const issue = checked.error.issues[0];
  const error = badRequest(
    `The request cannot be carried to the model: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}.`,
    null,
    "invalid_value",
  );
  return { body: null, error };
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
