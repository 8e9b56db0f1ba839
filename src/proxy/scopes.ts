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
]);

/** `/v1/models/{id}`: any model name, slashes included. */
const MODEL_PATH_PREFIX = "/v1/models/";

/**
 * The scope a /v1 path needs, or null for a path the gateway does not serve (it answers 404).
 * @example scopeForPath("/v1/chat/completions") // "chat"
 */
export function scopeForPath(path: string): string | null {
  const scope = PATH_SCOPES.get(path);
  if (scope !== undefined) return scope;
  return path.startsWith(MODEL_PATH_PREFIX) ? "models" : null;
}

/**
 * Refuses a key whose scopes do not cover the path with 403 `scope_not_allowed`, before any body
 * is read or limit taken. Runs after `authenticate`; reads the path Hono routes on, so no
 * spelling of a path reaches a handler without its check.
 * @example app.use("/v1/*", authenticate(), requireScope())
 */
export function requireScope(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const scope = scopeForPath(c.req.path);
    if (scope !== null && !hasScope(c.get("caller"), scope)) {
      throw forbidden(
        `This key does not have the '${scope}' scope this endpoint needs.`,
        "scope_not_allowed",
      );
    }
    await next();
  };
}
