import type { MiddlewareHandler } from "hono";
import { hasScope } from "../auth";
import type { AppEnv } from "../context";
import { forbidden } from "../errors";

/**
 * The scope each /v1 path needs: the one table of which key may call what. A key's scopes are
 * glob patterns (`*` every scope, `c*` chat and completions); minted keys default to `["*"]`.
 * Routes added under /v1 add their row here (test/security/claims.test.ts checks every route has
 * one).
 */
const PATH_SCOPES: ReadonlyMap<string, string> = new Map([
  ["/v1/chat/completions", "chat"],
  ["/v1/completions", "completions"],
  ["/v1/embeddings", "embeddings"],
  ["/v1/messages", "messages"],
  ["/v1/messages/count_tokens", "messages"],
  ["/v1/models", "models"],
  ["/v1/responses", "responses"],
]);

/**
 * The Gemini API (`POST /v1beta/models/{model}:{method}`: generate, stream, count, embed; also
 * under /v1) is one surface with one scope, `gemini`, as `messages` is Anthropic's.
 */
const GEMINI_PATH_PREFIX = "/v1beta/models/";

/** `/v1/models/{id}`: any model name, slashes included. */
const MODEL_PATH_PREFIX = "/v1/models/";
/** `/v1/responses/{id}` and `/v1/responses/{id}/input_items`: stored responses. */
const RESPONSE_PATH_PREFIX = "/v1/responses/";

/**
 * The scope a /v1 (or /v1beta) path needs, or null for a path the gateway does not serve (it
 * answers 404).
 * @example scopeForPath("/v1/chat/completions") // "chat"
 */
export function scopeForPath(path: string, method = "GET"): string | null {
  const scope = PATH_SCOPES.get(path);
  if (scope !== undefined) return scope;
  if (path.startsWith(GEMINI_PATH_PREFIX)) return "gemini";
  // POST /v1/models/{model}:{method} is a Gemini call (the Google SDK's path given a base URL).
  if (path.startsWith(MODEL_PATH_PREFIX)) return method === "POST" ? "gemini" : "models";
  return path.startsWith(RESPONSE_PATH_PREFIX) ? "responses" : null;
}

/**
 * Refuses a key whose scopes do not cover the path with 403 `scope_not_allowed`, before any body
 * is read or limit taken. Runs after `authenticate`; reads the path Hono routes on, so no
 * spelling of a path reaches a handler without its check.
 * @example app.use("/v1/*", authenticate(), requireScope())
 */
export function requireScope(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const scope = scopeForPath(c.req.path, c.req.method);
    if (scope !== null && !hasScope(c.get("caller"), scope)) {
      throw forbidden(
        `This key does not have the '${scope}' scope this endpoint needs.`,
        "scope_not_allowed",
      );
    }
    await next();
  };
}
