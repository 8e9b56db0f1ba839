import { Hono, type Context as HonoContext, type MiddlewareHandler } from "hono";
import { modelAllowed } from "../auth";
import { ownValue } from "../config";
import type { AppEnv } from "../context";
import { invalidApiKey, notFound } from "../errors";
import { tenantSuspended } from "../limits";
import type { Endpoint } from "../providers";
import { openaiAdapter } from "../providers/openai";
import { readJsonBody } from "./body";
import { proxy } from "./handler";
import { openaiOutput, openaiPassthroughOutput } from "./output";
import type { NativeCall } from "./request";
import { ChatRequest, CompletionRequest, EmbeddingRequest } from "./schemas";

/**
 * The OpenAI-compatible API under /v1. Authentication ran before these handlers; each one parses
 * and validates its body, then hands over to the shared proxy pipeline.
 * @example app.route("/v1", openaiRoutes())
 */
export function openaiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.post("/chat/completions", async (c) => {
    const services = c.get("services");
    const { max_body_bytes, body_timeout_ms } = services.config;
    const body = await readJsonBody(c.req.raw, ChatRequest, max_body_bytes, body_timeout_ms);
    return proxyParsed(c, "chat", body);
  });

  api.post("/completions", async (c) => {
    const services = c.get("services");
    const { max_body_bytes, body_timeout_ms } = services.config;
    const body = await readJsonBody(c.req.raw, CompletionRequest, max_body_bytes, body_timeout_ms);
    return proxyParsed(c, "completions", body);
  });

  api.post("/embeddings", async (c) => {
    const services = c.get("services");
    const { max_body_bytes, body_timeout_ms } = services.config;
    const body = await readJsonBody(c.req.raw, EmbeddingRequest, max_body_bytes, body_timeout_ms);
    return proxyParsed(c, "embeddings", { ...body, stream: false });
  });

  // Listing models skips the gate, so it checks revocation itself.
  // "/models/*" also matches "/models": registered once, it runs once.
  api.get("/models/*", refuseRevoked());

  api.get("/models", (c) => {
    const models = visibleModels(c);
    return c.json({ object: "list", data: models.map((id) => modelObject(id)) });
  });

  api.get("/models/:id{.+}", (c) => {
    const id = c.req.param("id");
    if (!visibleModels(c).includes(id)) {
      throw notFound(`The model '${id}' does not exist or you do not have access to it.`, "model_not_found");
    }
    return c.json(modelObject(id));
  });

  return api;
}

type Context = HonoContext<AppEnv>;

function proxyParsed(
  c: Context,
  endpoint: Endpoint,
  body: Record<string, unknown> & { model: string; stream?: boolean | null },
): Promise<Response> {
  const streamOptions = body.stream_options as { include_usage?: boolean } | null | undefined;
  const output = openaiOutput(streamOptions?.include_usage === true);
  const stream = body.stream === true;
  const native = stream && endpoint === "chat" ? passthroughCall(c, body) : undefined;
  return proxy(c, { endpoint, body, stream, output, native }, c.get("timing"));
}

/**
 * On a `stream_passthrough` route, OpenAI-compatible targets stream to the caller natively (the
 * runtime forwards the provider's bytes); targets of other kinds still get the translation.
 */
function passthroughCall(c: Context, body: Record<string, unknown>): NativeCall | undefined {
  const route = ownValue(c.get("services").config.routes, body.model as string);
  if (!route?.stream_passthrough) return undefined;
  return {
    kind: "openai",
    adapter: openaiAdapter,
    body,
    output: openaiPassthroughOutput(),
    untranslatable: null,
  };
}

/**
 * For routes that skip the gate (listing models, reading stored responses): refuses a revoked key,
 * or, with Redis unreachable, follows the operator's revocation failure policy.
 * @example api.get("/responses/:id", refuseRevoked(), handler)
 */
export function refuseRevoked(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const services = c.get("services");
    const caller = c.get("caller");
    let refusal: "revoked" | "suspended" | null;
    try {
      refusal = await services.revocations.refusal(caller.keyId, caller.tenant);
    } catch {
      // Redis unreachable: the operator's policy decides (default: serve, the signature is valid).
      refusal = services.config.failure_policy.revocation === "closed" ? "revoked" : null;
    }
    if (refusal === "revoked") throw invalidApiKey("This API key has been revoked.");
    if (refusal === "suspended") throw tenantSuspended();
    await next();
  };
}

function visibleModels(c: Context): string[] {
  const caller = c.get("caller");
  return Object.keys(c.get("services").config.routes).filter((id) => modelAllowed([...caller.models], id));
}

function modelObject(id: string) {
  return { id, object: "model", created: 0, owned_by: "sluice" };
}
