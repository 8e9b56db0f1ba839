import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../../context";
import { badRequest, GatewayError, notFound } from "../../errors";
import { estimatePromptTokens } from "../../estimate";
import { type GeminiMethod, geminiCountTokensRequest, geminiPassthrough } from "../../providers/gemini";
import { admitAndMeter, allowedRoute } from "../../proxy/admit";
import { readCheckedJsonBody } from "../../proxy/body";
import { proxy } from "../../proxy/handler";
import type { NativeCall } from "../../proxy/request";
import { ChatRequest, EmbeddingRequest } from "../../proxy/schemas";
import { settle } from "../../proxy/settle";
import { nativeCount } from "../native-count";
import { openAIErrorToGemini } from "./error";
import { geminiNativeOutput, geminiOutput } from "./output";
import { geminiEmbeddingsToOpenAI, geminiRequestToOpenAI } from "./request";
import {
  BatchEmbedContentsRequest,
  CountTokensRequest,
  type EmbedContentBody,
  EmbedContentRequest,
  GenerateContentRequest,
} from "./schema";

type Json = Record<string, unknown> & { model: string };
type Translation = { body: Json | null; error: GatewayError | null };

const METHODS: ReadonlySet<string> = new Set<GeminiMethod>([
  "generateContent",
  "streamGenerateContent",
  "countTokens",
  "embedContent",
  "batchEmbedContents",
]);

/**
 * The Gemini API under /v1beta (and /v1, where the Google SDK goes given a base URL):
 * `POST /models/{model}:{method}` for generateContent,
 * streamGenerateContent (SSE), countTokens, embedContent and batchEmbedContents, as the Google
 * Gen AI SDK calls them. `{model}` is a sluice route. Gemini targets get the caller's body as
 * sent (model rewritten) and the caller gets their answer byte for byte; other targets get the
 * OpenAI translation, answered back in Google's shapes.
 * @example app.route("/v1beta", geminiRoutes()); app.route("/v1", geminiRoutes())
 */
export function geminiRoutes(): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.post("/models/:call{.+}", (c) => {
    if (!isGeminiCall(c)) throw notFound(`Unknown request URL: POST ${c.req.path}.`, "unknown_url");
    const call = c.req.param("call");
    const colon = call.lastIndexOf(":");
    const model = call.slice(0, colon).replace(/^models\//, "");
    const method = call.slice(colon + 1);
    if (colon <= 0 || !METHODS.has(method)) {
      throw notFound(`Unknown Gemini method '${method}'.`, "unknown_url");
    }
    if (method === "countTokens") return countTokens(c, model);
    if (method === "embedContent" || method === "batchEmbedContents") return embed(c, model, method);
    return generate(c, model, method as GeminiMethod);
  });
  return api;
}

async function generate(c: Context<AppEnv>, model: string, method: GeminiMethod): Promise<Response> {
  const { original, parsed } = await readGemini(c, GenerateContentRequest);
  const stream = method === "streamGenerateContent";
  const translation = checked(ChatRequest, () => geminiRequestToOpenAI(model, parsed, stream));
  const native = nativeCall(method, original, model, translation.error);
  // Untranslatable, the body is still estimated: its JSON text as one message.
  const body = translation.body ?? {
    model,
    messages: [{ role: "user", content: JSON.stringify(parsed.contents) }],
  };
  const output = geminiOutput(model, null);
  return proxy(c, { endpoint: "chat", body, stream, output, native }, c.get("timing"));
}

async function embed(c: Context<AppEnv>, model: string, method: "embedContent" | "batchEmbedContents") {
  const single = method === "embedContent";
  const { original, parsed } = single
    ? await readGemini(c, EmbedContentRequest)
    : await readGemini(c, BatchEmbedContentsRequest);
  const requests: EmbedContentBody[] =
    "requests" in parsed ? (parsed.requests as EmbedContentBody[]) : [parsed];
  const translation = checked(EmbeddingRequest, () => geminiEmbeddingsToOpenAI(model, requests, single));
  if (!translation.body) throw translation.error;
  const native = nativeCall(method, original, model, null);
  const output = geminiOutput(model, single ? "single" : "batch");
  return proxy(
    c,
    { endpoint: "embeddings", body: translation.body, stream: false, output, native },
    c.get("timing"),
  );
}

/** Counting is a metered call (no cost, nothing reserved); Gemini targets count natively. */
async function countTokens(c: Context<AppEnv>, model: string): Promise<Response> {
  const { original, parsed } = await readGemini(c, CountTokensRequest);
  const route = allowedRoute(c, model);
  const metered = await admitAndMeter(c, c.get("timing"), {
    endpoint: "count_tokens",
    model,
    stream: false,
    estimatedTokens: 0,
    worstCaseMicros: 0,
    breakerKeys: [],
  });
  const native = await nativeCount(c, route, "gemini", (t) => geminiCountTokensRequest(original, t));
  settle(c, metered, { status: 200, errorCode: null });
  if (typeof native?.totalTokens === "number") return c.json(native);
  const request = parsed.generateContentRequest;
  const contents = parsed.contents ?? request?.contents ?? [];
  const estimate = checked(ChatRequest, () => geminiRequestToOpenAI(model, { ...request, contents }, false));
  return c.json({ totalTokens: estimate.body ? estimatePromptTokens(estimate.body) : 0 });
}

function nativeCall(
  method: GeminiMethod,
  original: Record<string, unknown>,
  model: string,
  untranslatable: GatewayError | null,
): NativeCall {
  return {
    kind: "gemini",
    adapter: geminiPassthrough(method),
    body: original,
    output: geminiNativeOutput(model),
    untranslatable,
  };
}

function readGemini<S extends z.ZodType>(c: Context<AppEnv>, schema: S) {
  const { max_body_bytes, body_timeout_ms } = c.get("services").config;
  return readCheckedJsonBody(c.req.raw, schema, max_body_bytes, body_timeout_ms);
}

/**
 * The OpenAI translation, checked against the OpenAI schema as a backstop, or why there is none.
 */
function checked(schema: z.ZodType, translate: () => Record<string, unknown>): Translation {
  let openai: Record<string, unknown>;
  try {
    openai = translate();
  } catch (err) {
    if (err instanceof GatewayError) return { body: null, error: err };
    throw err;
  }
  const result = schema.safeParse(openai);
  if (result.success) return { body: result.data as Json, error: null };
  const issue = result.error.issues[0];
  const message = `The request cannot be carried to the model: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}.`;
  return { body: null, error: badRequest(message, null, "invalid_value") };
}

/**
 * Errors of Gemini API calls in Google's shape (`{"error":{"code","message","status"}}`), whatever
 * raises them; mounted before the key check so its errors take the shape too.
 * @example app.use("/v1beta/*", geminiErrors())
 */
export function geminiErrors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (isGeminiCall(c)) c.set("errorShape", openAIErrorToGemini);
    await next();
  };
}

/** `POST /v1beta/models/{model}:{method}`, or under /v1 (where the Google SDK goes with a custom base URL). */
const GEMINI_CALL = /^\/v1(?:beta)?\/models\/[^/].*:[A-Za-z]+$/;

/**
 * Whether a request is a Gemini API call. Under /v1 only a POST is: `GET /v1/models/{id}` is
 * OpenAI's, and its ids may hold colons (`ft:gpt-4o-mini:...`).
 * @example isGeminiCall(c) // true for POST /v1/models/gemini-2.5-flash:generateContent
 */
export function isGeminiCall(c: Context<AppEnv>): boolean {
  return c.req.method === "POST" && GEMINI_CALL.test(c.req.path);
}

/**
 * The caller's sluice key as the Google SDKs send it: `x-goog-api-key`, or `?key=` in the URL
 * (never logged, never sent on: upstream URLs are built from the target alone).
 * @example geminiKey(c) // "sk-sluice-..."
 */
export function geminiKey(c: Context<AppEnv>): string | null {
  if (!isGeminiCall(c)) return null;
  const header = c.req.header("x-goog-api-key")?.trim();
  if (header) return header;
  const query = c.req.query("key")?.trim();
  return query ? query : null;
}
