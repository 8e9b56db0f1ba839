import { type Context, Hono } from "hono";
import { ownValue, type RouteConfig } from "../config";
import type { AppEnv } from "../context";
import { badRequest, GatewayError, notFound } from "../errors";
import { allowedRoute } from "../proxy/admit";
import { readJsonBody } from "../proxy/body";
import { proxy } from "../proxy/handler";
import type { NativeCall, ProxyRequest } from "../proxy/request";
import { refuseRevoked } from "../proxy/routes";
import { type ChatBody, ChatRequest } from "../proxy/schemas";
import {
  inputItems,
  MAX_INPUT_ITEMS,
  nativeResponsesOutput,
  type ResponseFrame,
  type ResponsesBody,
  ResponsesRequest,
  responseIdOf,
  responsesApiAdapter,
  responsesRequestToChat,
  translatedResponsesOutput,
} from "./responses";

type Json = Record<string, unknown>;

/**
 * The OpenAI Responses API: `POST /v1/responses` (JSON or typed SSE events) through the same
 * pipeline as every route (keys, limits, routing with fallback, metering), sent natively to
 * providers that speak it and translated to chat for the others; and the stored responses:
 * `GET`/`DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`.
 * @example app.route("/v1", responsesRoutes())
 */
export function responsesRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.post("/responses", async (c) => {
    const { max_body_bytes, body_timeout_ms } = c.get("services").config;
    const body = await readJsonBody(c.req.raw, ResponsesRequest, max_body_bytes, body_timeout_ms);
    const route = allowedRoute(c, body.model);
    const items = await conversationItems(c, body);
    return proxy(c, proxyRequest(c, body, route, items), c.get("timing"));
  });

  // Reading stored state skips the gate, so revocation is checked on its own.
  api.get("/responses/:id", refuseRevoked(), async (c) => {
    const turn = await ownTurn(c);
    return c.json(turn.response);
  });

  api.delete("/responses/:id", refuseRevoked(), async (c) => {
    const id = c.req.param("id");
    const { store, db } = await turnStore(c);
    if (!(await store.deleteTurn(db, c.get("caller").tenant, id))) throw responseNotFound(id);
    return c.json({ id, object: "response", deleted: true });
  });

  api.get("/responses/:id/input_items", refuseRevoked(), async (c) => {
    const turn = await ownTurn(c);
    return c.json(itemsPage(turn.inputItems, c.req.query()));
  });

  return api;
}

/**
 * Every input item of this turn: those of the previous response (its inputs, then its outputs)
 * when the request names one, then the request's own. Reading it is the one database read a
 * request may make before the upstream call, and only when it names a previous response.
 */
async function conversationItems(c: Context<AppEnv>, body: ResponsesBody): Promise<Json[]> {
  const own = inputItems(body.input);
  const previousId = body.previous_response_id;
  if (!previousId) return own;
  const services = c.get("services");
  const previous = await c.get("timing").measure("state", async () => {
    const { store, db } = await turnStore(c);
    return store.loadTurn(db, c.get("caller").tenant, previousId, services.now());
  });
  if (!previous) {
    throw notFound(`Previous response with id '${previousId}' not found.`, "previous_response_not_found");
  }
  const output = Array.isArray(previous.response.output) ? (previous.response.output as Json[]) : [];
  const items = [...previous.inputItems, ...output, ...own];
  // Each turn stores the whole conversation: its length is capped like one request's input.
  if (items.length > MAX_INPUT_ITEMS) {
    throw badRequest(
      `The conversation has more than ${MAX_INPUT_ITEMS} items; start a new one or send fewer items.`,
      "previous_response_id",
      "conversation_too_long",
    );
  }
  return items;
}

/**
 * The request for the pipeline. Targets whose provider speaks the Responses API (`responses_api`)
 * get the body as it is; the others get it translated to chat. A route of one kind is one path;
 * a mixed route carries both (the native body as `request.native`), and a body the translation
 * cannot carry (built-in tools) is refused by the chat targets only.
 */
function proxyRequest(
  c: Context<AppEnv>,
  body: ResponsesBody,
  route: RouteConfig,
  items: Json[],
): ProxyRequest {
  const providers = c.get("services").config.providers;
  const speaksResponses = (provider: string) => ownValue(providers, provider)?.responses_api === true;
  const frame = responseFrame(c, body);
  const onFinal = storeOnFinal(c, body, items);
  const stream = body.stream === true;
  const nativeOutput = nativeResponsesOutput(frame, onFinal);
  const output = translatedResponsesOutput(frame, onFinal);
  // The upstream knows nothing of the gateway's ids: the earlier turns go as input items.
  const { previous_response_id: _, ...rest } = body;
  const upstream = body.previous_response_id ? { ...rest, input: items } : body;
  const natives = route.targets.filter((t) => speaksResponses(t.provider)).length;
  if (natives === route.targets.length)
    return { endpoint: "responses", body: upstream, stream, output: nativeOutput };
  const chat = chatBody(body, items);
  if (natives === 0 && chat instanceof GatewayError) throw chat;
  const native: NativeCall | undefined =
    natives === 0
      ? undefined
      : {
          kind: "openai",
          adapter: responsesApiAdapter(),
          body: upstream,
          output: nativeOutput,
          untranslatable: chat instanceof GatewayError ? chat : null,
          accepts: speaksResponses,
        };
  if (chat instanceof GatewayError) return { endpoint: "responses", body: upstream, stream, output, native };
  return { endpoint: "chat", body: chat, stream, output, native };
}

function responseFrame(c: Context<AppEnv>, body: ResponsesBody): ResponseFrame {
  return {
    id: responseIdOf(c.get("requestId")),
    createdAt: Math.floor(c.get("services").now() / 1000),
    model: body.model,
    request: body,
  };
}

/** The request as a chat body, checked as the chat route checks one; or why it cannot be one. */
function chatBody(body: ResponsesBody, items: Json[]): ChatBody | GatewayError {
  let translated: Json;
  try {
    translated = responsesRequestToChat(body, items);
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  const chat = ChatRequest.safeParse(translated);
  if (chat.success) return chat.data;
  const issue = chat.error.issues[0];
  return badRequest(
    `The request cannot be carried to the model: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}.`,
    null,
    "invalid_value",
  );
}

/** Stores the finished response after the answer (waitUntil), unless the caller said `store: false`. */
function storeOnFinal(c: Context<AppEnv>, body: ResponsesBody, items: Json[]): (response: Json) => void {
  if (body.store === false) return () => {};
  const services = c.get("services");
  const { tenant, keyId } = c.get("caller");
  return (response) => {
    const write = turnStore(c)
      .then(({ store, db }) =>
        store.saveTurn(
          db,
          { tenant, keyId },
          { inputItems: items, response },
          services.now(),
          services.config.responses.retention_days,
        ),
      )
      .catch(() => services.log("warn", "storing a response failed; it cannot be continued or read"));
    c.executionCtx.waitUntil(write);
  };
}

/** The caller's tenant's stored response named by the path, or 404 (another tenant's is absent too). */
async function ownTurn(c: Context<AppEnv>) {
  const services = c.get("services");
  const id = c.req.param("id") ?? "";
  const { store, db } = await turnStore(c);
  const turn = await store.loadTurn(db, c.get("caller").tenant, id, services.now());
  if (!turn) throw responseNotFound(id);
  return turn;
}

/**
 * The stored responses' table and its Postgres client, loaded on first use: drizzle stays out of
 * an isolate's start (see lazyDatabase).
 */
async function turnStore(c: Context<AppEnv>) {
  const [store, db] = await Promise.all([import("./responses/store"), c.get("services").db()]);
  return { store, db };
}

function responseNotFound(id: string) {
  return notFound(`Response with id '${id.slice(0, 64)}' not found.`, "response_not_found");
}

/** One page of input items, as OpenAI lists them: `order` (default desc), `limit` (1-100), `after`. */
function itemsPage(items: Json[], query: Record<string, string>): Json {
  const withIds = items.map((item, i) => (typeof item.id === "string" ? item : { id: `item_${i}`, ...item }));
  const ordered = query.order === "asc" ? withIds : [...withIds].reverse();
  const limit = Math.min(100, Math.max(1, Number.parseInt(query.limit ?? "20", 10) || 20));
  const start = query.after ? ordered.findIndex((item) => item.id === query.after) + 1 : 0;
  const data = ordered.slice(start, start + limit);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}
