import type { IncomingHttpHeaders } from "node:http";
import pg from "pg";
import { jsonParamToPgText, pgTextToJson } from "./pg-text";

// Neon's SQL-over-HTTP protocol (what @neondatabase/serverless `neon()` and drizzle's neon-http send):
// POST /sql with `{query, params, arrayMode?}` or `{queries: [...]}` (one transaction), options in
// `Neon-*` headers, results as `{fields, rows, command, rowCount, rowAsArray}` or `{results: [...]}`,
// Postgres errors as HTTP 400 `{message, code, ...}`, other failures as HTTP 5xx.

/** What the HTTP layer should send back. */
export interface SqlReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface NeonQuery {
  query: string;
  params: (string | null)[];
  arrayMode?: boolean;
}

interface NeonHeaders {
  rawTextOutput: boolean;
  arrayMode: boolean;
  isolationLevel?: string;
  readOnly: boolean;
  deferrable: boolean;
}

const ISOLATION_LEVELS: Record<string, string> = {
  Serializable: "SERIALIZABLE",
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
};

/** The fields of a Postgres error that Neon copies into its JSON error body. */
const ERROR_FIELDS = [
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "severity",
  "where",
  "table",
  "column",
  "schema",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

/** A pool whose rows hold Postgres' text output untouched: the client parses by type OID. */
export function createRawTextPool(databaseUrl: string): pg.Pool {
  const identity = (value: string) => value;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    types: { getTypeParser: (() => identity) as unknown as pg.CustomTypesConfig["getTypeParser"] },
  });
  pool.on("error", () => {});
  // Remember each connection's transaction status so one left inside a transaction is discarded,
  // as Neon does: reused, it would leak state, and on PGlite it would block every other connection.
  pool.on("connect", (client) => {
    const { connection } = client as unknown as { connection: NodeJS.EventEmitter };
    connection.on("readyForQuery", (message: { status?: string }) => {
      txStatus.set(client, message.status ?? "I");
    });
  });
  return pool;
}

const txStatus = new WeakMap<pg.PoolClient, string>();

class BadRequest extends Error {}

/** Runs one `/sql` request body against the pool and describes the HTTP reply. */
export async function handleSqlRequest(
  pool: pg.Pool,
  rawBody: string,
  headers: IncomingHttpHeaders,
): Promise<SqlReply> {
  try {
    const options = parseHeaders(headers);
    const payload = parsePayload(rawBody);
    if (Array.isArray(payload)) {
      const results = await runBatch(pool, payload, options);
      return { status: 200, headers: batchEchoHeaders(options), body: { results } };
    }
    return { status: 200, headers: {}, body: await runSingle(pool, payload, options) };
  } catch (error) {
    return errorReply(error);
  }
}

function parseHeaders(headers: IncomingHttpHeaders): NeonHeaders {
  // Like Neon: anything but the exact string "true" means false.
  const flag = (name: string) => headers[name] === "true";
  const isolation = headers["neon-batch-isolation-level"];
  if (isolation !== undefined && (typeof isolation !== "string" || !(isolation in ISOLATION_LEVELS))) {
    throw new BadRequest("invalid isolation level");
  }
  return {
    rawTextOutput: flag("neon-raw-text-output"),
    arrayMode: flag("neon-array-mode"),
    isolationLevel: isolation,
    readOnly: flag("neon-batch-read-only"),
    deferrable: flag("neon-batch-deferrable"),
  };
}

function parsePayload(rawBody: string): NeonQuery | NeonQuery[] {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw new BadRequest("request body is not valid JSON");
  }
  if (typeof body === "object" && body !== null && "queries" in body) {
    const { queries } = body as { queries: unknown };
    if (!Array.isArray(queries)) throw new BadRequest("`queries` must be an array");
    return queries.map(parseQuery);
  }
  return parseQuery(body);
}

function parseQuery(value: unknown): NeonQuery {
  if (typeof value !== "object" || value === null) throw new BadRequest("expected a query object");
  const { query, params = [], arrayMode } = value as Record<string, unknown>;
  if (typeof query !== "string") throw new BadRequest("`query` must be a string");
  if (!Array.isArray(params)) throw new BadRequest("`params` must be an array");
  if (arrayMode !== undefined && typeof arrayMode !== "boolean") {
    throw new BadRequest("`arrayMode` must be a boolean");
  }
  return { query, params: params.map(jsonParamToPgText), arrayMode };
}

async function runSingle(pool: pg.Pool, query: NeonQuery, options: NeonHeaders): Promise<unknown> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await execute(client, query, options);
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) broken = error as Error;
    throw error;
  } finally {
    client.release(broken ?? (txStatus.get(client) === "I" ? undefined : true));
  }
}

async function runBatch(pool: pg.Pool, queries: NeonQuery[], options: NeonHeaders): Promise<unknown[]> {
  const client = await pool.connect();
  let broken: Error | boolean | undefined;
  try {
    await client.query(beginStatement(options));
    const results: unknown[] = [];
    try {
      for (const query of queries) results.push(await execute(client, query, options));
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw error;
    }
    return results;
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) broken = true;
    throw error;
  } finally {
    client.release(broken || txStatus.get(client) !== "I" ? true : undefined);
  }
}

function beginStatement(options: NeonHeaders): string {
  const modes: string[] = [];
  if (options.isolationLevel) modes.push(`ISOLATION LEVEL ${ISOLATION_LEVELS[options.isolationLevel]}`);
  if (options.readOnly) modes.push("READ ONLY");
  if (options.deferrable) modes.push("DEFERRABLE");
  return `BEGIN ${modes.join(", ")}`.trim();
}

function batchEchoHeaders(options: NeonHeaders): Record<string, string> {
  const echo: Record<string, string> = {};
  if (options.readOnly) echo["Neon-Batch-Read-Only"] = "true";
  if (options.deferrable) echo["Neon-Batch-Deferrable"] = "true";
  if (options.isolationLevel) echo["Neon-Batch-Isolation-Level"] = options.isolationLevel;
  return echo;
}

async function execute(client: pg.PoolClient, query: NeonQuery, options: NeonHeaders): Promise<unknown> {
  const result = await client.query<string[]>({
    text: query.query,
    values: query.params,
    rowMode: "array",
    // Neon always uses the extended protocol: one statement per query, parameters or not.
    queryMode: "extended",
  } as pg.QueryArrayConfig);
  const arrayMode = query.arrayMode ?? options.arrayMode;
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: "text",
  }));
  const rows = result.rows.map((row) => {
    const values = options.rawTextOutput
      ? row
      : row.map((v, i) => (v === null ? null : pgTextToJson(v, fields[i]?.dataTypeID ?? 25)));
    return arrayMode ? values : Object.fromEntries(fields.map((f, i) => [f.name, values[i]]));
  });
  return { fields, rows, command: result.command ?? "", rowCount: result.rowCount, rowAsArray: arrayMode };
}

function errorReply(error: unknown): SqlReply {
  if (error instanceof BadRequest) return { status: 400, headers: {}, body: { message: error.message } };
  if (error instanceof pg.DatabaseError) {
    const body: Record<string, unknown> = { message: error.message };
    for (const field of ERROR_FIELDS) body[field] = error[field];
    return { status: 400, headers: {}, body };
  }
  // No SQLSTATE: the database could not be reached or the connection broke (Neon answers 500).
  const reason = error instanceof Error ? error.message : String(error);
  return { status: 500, headers: {}, body: { message: `Couldn't connect to compute node: ${reason}` } };
}
