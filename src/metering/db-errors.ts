/**
 * Why an insert failed, which decides what to do with its rows:
 * - `content`: Postgres refused a row's values (SQLSTATE class 22 data exception, 23 constraint,
 *   54 program limit such as 54000 index row too large). Retrying cannot help; splitting the batch
 *   finds the row, and the rest can be stored.
 * - `schema`: the statement itself is wrong for this database (class 42: missing table or column,
 *   a migration not applied). Retrying cannot help, and every row would fail alike: keep them.
 * - `transient`: anything else (connection, timeout, HTTP 5xx, no SQLSTATE): worth retrying.
 */
export type DbFailure = "content" | "schema" | "transient";

/**
 * Classifies an insert failure by its SQLSTATE.
 * @example classifyDbError(error) === "content" // the batch holds a row Postgres refuses
 */
export function classifyDbError(error: unknown): DbFailure {
  const code = sqlState(error);
  if (code === null) return "transient";
  if (/^(22|23|54)/.test(code)) return "content";
  if (code.startsWith("42")) return "schema";
  return "transient";
}

/** A failure no retry can fix: `content` or `schema` (see classifyDbError). */
export function isPermanentDbError(error: unknown): boolean {
  return classifyDbError(error) !== "transient";
}

/** The SQLSTATE of a driver error (drizzle wraps it as the `cause` of its "Failed query" error). */
export function sqlState(error: unknown): string | null {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    // Five characters; other `code`s (ECONNRESET and the like) are not Postgres' verdict.
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return null;
}

/**
 * A short description for logs: the driver's own message and SQLSTATE, never a wrapper whose
 * message repeats the whole statement with every row's values.
 */
export function describeDbError(error: unknown): string {
  let root = error;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  const code = sqlState(error);
  const text = root instanceof Error ? `${root.name}: ${root.message}` : String(root);
  return (code ? `${text} (${code})` : text).slice(0, 300);
}

/**
 * Why Postgres refused a row, short enough to keep beside it in the dead-letter list: the SQLSTATE
 * and the server's own message (row values at most, never the statement or a connection string).
 * @example refusalReason(error) // '22021: invalid byte sequence for encoding "UTF8": 0x00'
 */
export function refusalReason(error: unknown): string {
  let root = error;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  const message = (root instanceof Error ? root.message : String(root))
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>")
    .slice(0, 200);
  const code = sqlState(error);
  return code ? `${code}: ${message}` : message;
}
