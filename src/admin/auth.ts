import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app";
import { adminTokenMatches, extractToken } from "../auth";
import { GatewayError } from "../errors";

/**
 * Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. An API key
 * is not an admin credential: it gets 401 here like any wrong token.
 */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = c.get("services").env.ADMIN_TOKEN ?? "";
    if (!(await adminTokenMatches(extractToken(c.req.raw.headers), expected))) {
      throw new GatewayError(
        401,
        "authentication_error",
        "Admin credentials required.",
        "invalid_admin_token",
      );
    }
    await next();
  };
}
