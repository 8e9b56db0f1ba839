import { type Context, Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app";
import type { OpenAIErrorBody } from "../errors";
import { readJsonBody } from "../proxy/body";
import { proxy } from "../proxy/handler";
import { anthropicOutput } from "../proxy/output";
import { ChatRequest } from "../proxy/schemas";
import { anthropicRequestToOpenAI, openAIErrorToAnthropic } from "./anthropic";

const AnthropicBody = z.looseObject({});

/**
 * The Anthropic-compatible API: `POST /v1/messages` (and `/v1/messages/count_tokens`). Requests
 * become OpenAI chat bodies, go through the same pipeline (keys, limits, routing to any provider,
 * metering), and come back as Anthropic messages and events, so `@anthropic-ai/sdk` works as is.
 * @example app.route("/v1", messagesRoutes())
 */
export function messagesRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.post("/messages", async (c) => {
    const services = c.get("services");
    const body = await readOpenAIBody(c, services.config.max_body_bytes);
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

  api.post("/messages/count_tokens", async (c) => {
    const services = c.get("services");
    const body = await readOpenAIBody(c, services.config.max_body_bytes);
    return c.json({ input_tokens: services.estimatePromptTokens("chat", body) });
  });

  return api;
}

async function readOpenAIBody(c: Context<AppEnv>, maxBytes: number) {
  const raw = await readJsonBody(c.req.raw, AnthropicBody, maxBytes);
  // count_tokens bodies carry no max_tokens; the translation wants one.
  const translated = anthropicRequestToOpenAI({ max_tokens: 1, ...raw });
  return ChatRequest.parse(translated);
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
