import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { badRequest } from "../errors";

/** Headers a caller may label its request with, in order of preference (OpenAI's own first). */
export const CLIENT_REQUEST_ID_HEADERS = ["x-client-request-id", "x-request-id"] as const;

/** The header the caller's label is echoed in; `x-request-id` always carries the gateway's id. */
export const CLIENT_REQUEST_ID_ECHO = "x-client-request-id";

export const MAX_CLIENT_REQUEST_ID_LENGTH = 128;

/** 1 to 128 printable ASCII characters (0x20-0x7E): safe in a header, a log line and a CSV cell. */
const VALID_CLIENT_REQUEST_ID = /^[\x20-\x7e]{1,128}$/;

/**
 * The caller's own id for its request, or null when it sent none. It only labels the usage row:
 * the gateway keys everything by its own id, so two requests with one label stay two requests.
 * A label that is too long or not printable ASCII is refused (never truncated, so the stored
 * label is always exactly what the caller sent).
 * @throws GatewayError 400 `invalid_request_id`, `param` naming the header
 * @example readClientRequestId(new Headers({ "x-request-id": "job-42" })) // "job-42"
 */
export function readClientRequestId(headers: Headers): string | null {
  for (const name of CLIENT_REQUEST_ID_HEADERS) {
    const value = headers.get(name);
    if (!value) continue;
    if (!VALID_CLIENT_REQUEST_ID.test(value)) {
      throw badRequest(
        `Invalid header '${name}': a request id must be 1 to ${MAX_CLIENT_REQUEST_ID_LENGTH} printable ASCII characters.`,
        name,
        "invalid_request_id",
      );
    }
    return value;
  }
  return null;
}

/**
 * Reads the caller's request id into `clientRequestId` and echoes it back in
 * `x-client-request-id`. Mounted after the Anthropic error middleware, so its 400 takes the
 * shape of the route it is on.
 * @example app.use("/v1/*", clientRequestId())
 */
export function clientRequestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = readClientRequestId(c.req.raw.headers);
    c.set("clientRequestId", id);
    if (id === null) return next();
    // Set before the handler, like x-request-id, so responses built with c.json carry it.
    c.header(CLIENT_REQUEST_ID_ECHO, id);
    await next();
    if (!c.res.headers.has(CLIENT_REQUEST_ID_ECHO)) c.header(CLIENT_REQUEST_ID_ECHO, id);
  };
}
