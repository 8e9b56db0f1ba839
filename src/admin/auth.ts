import type { MiddlewareHandler } from "hono";
import { adminTokenMatches, extractToken } from "../auth";
import type { AppEnv } from "../context";
import { GatewayError } from "../errors";

/**
 * Admin routes need `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. An API key
 * is not an admin credential: it gets 401 here like any wrong token.
 */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const expected = c.get("services").env.ADMIN_TOKEN ?? "";
    if (!(await adminTokenMatches(extractToken(c.req.raw.headers), expected))) {
      throw new GatewayError({
        status: 401,
        type: "authentication_error",
        message: "Admin credentials required.",
        code: "invalid_admin_token",
      });
    }
    await next();
  };
}
