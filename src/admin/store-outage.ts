import { GatewayError } from "../errors";

/** SQLSTATE classes of a store that is down or overloaded rather than a query it refused. */
const OUTAGE_CLASSES = new Set(["08", "53", "57", "58"]);

/**
 * True when the database driver failed without Postgres refusing the query: the SQL endpoint
 * unreachable or answering an HTTP error (no SQLSTATE), or a connection or resource error. Drizzle
 * wraps the driver's error in `cause`. Anything else (a query Postgres refused, a bug) stays a 500.
 */
export function isStoreOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (e.name !== "NeonDbError") continue;
    const code = (e as { code?: unknown }).code;
    return typeof code !== "string" || OUTAGE_CLASSES.has(code.slice(0, 2));
  }
  return false;
}

/**
 * The 503 an admin route answers while Postgres is out: `<store>_store_unavailable`, retry later.
 * @example throw storeUnavailable("key")
 */
export const storeUnavailable = (store: "usage" | "key" | "tenant") =>
  new GatewayError({
    status: 503,
    type: "server_error",
    message: `The ${store} store could not be read. Retry shortly.`,
    code: `${store}_store_unavailable`,
    headers: { "retry-after": "5" },
  });

/**
 * An admin sub-app's error handler: a store outage becomes the 503 above; everything else goes on
 * to the gateway's own handler, which answers with the request's headers.
 * @example keys.onError(rethrowStoreOutage("key"))
 */
export const rethrowStoreOutage =
  (store: "usage" | "key" | "tenant") =>
  (err: Error): never => {
    throw isStoreOutage(err) ? storeUnavailable(store) : err;
  };
