import type { Context, MiddlewareHandler } from "hono";
import { extractToken, type VerifyFailureReason } from "../auth";
import type { AppEnv } from "../context";
import { GatewayError, invalidApiKey } from "../errors";

const MESSAGES: Partial<Record<VerifyFailureReason, string>> = {
  missing: "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
  expired: "The API key has expired.",
  not_yet_valid: "The API key is not valid yet.",
  too_large: "The API key is too long.",
};

/**
 * Verifies the caller's key with no I/O (jose against in-memory public keys, cached by hash) and
 * puts the identity on the context. Revocation is checked later, inside the limits round trip.
 */
export function authenticate(
  /** Where the route's callers put their key (the Gemini API: `x-goog-api-key` or `?key=`). */
  ownToken: (c: Context<AppEnv>) => string | null = () => null,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const services = c.get("services");
    const token = ownToken(c) ?? extractToken(c.req.raw.headers);
    const result = await c.get("timing").measure("auth", () => services.verifier.verify(token));
    if (!result.ok) {
      if (result.reason === "issuer_unavailable") {
        throw new GatewayError({
          status: 503,
          type: "server_error",
          message: "The key's issuer could not be reached; try again.",
          code: "issuer_unavailable",
        });
      }
      // One message for every forgery: which check failed is no business of a forger.
      throw invalidApiKey(MESSAGES[result.reason] ?? "Incorrect API key provided.");
    }
    c.set("caller", result.identity);
    await next();
  };
}
