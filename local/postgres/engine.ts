import pg from "pg";
import { waitFor } from "../net";
import { startPgliteServer } from "./pglite-server";
import { redactUrl } from "./redact";

/** One column of a query result, as `pg` describes it. */
export interface PostgresField {
  name: string;
  dataTypeID: number;
}

/** A query result with values parsed by `pg`'s default type parsers. */
export interface PostgresQueryResult {
  rows: Record<string, unknown>[];
  fields: PostgresField[];
  command: string;
  rowCount: number;
}

/** A running Postgres that answers on TCP: a real server, or embedded PGlite behind a socket server. */
export interface PostgresEngine {
  kind: "postgres" | "pglite";
  /** A postgres:// URL the TCP side answers on. */
  databaseUrl: string;
  tcpHost: string;
  tcpPort: number;
  query(sql: string, params?: unknown[]): Promise<PostgresQueryResult>;
  close(): Promise<void>;
}

export interface PostgresEngineOptions {
  /** A real Postgres (e.g. Debian's PG15 in CI). Without it, PGlite runs embedded. */
  databaseUrl?: string;
  /** PGlite only: keep data in this folder instead of in memory. */
  dataDir?: string;
  /** Real Postgres only: how long to wait for the server to accept connections (default 10 s). */
  connectTimeoutMs?: number;
}

/** Starts (PGlite) or connects to (real Postgres) a database and returns one way to reach it. */
export async function startPostgresEngine(opts: PostgresEngineOptions = {}): Promise<PostgresEngine> {
  if (opts.databaseUrl) return connectRealPostgres(opts.databaseUrl, opts.connectTimeoutMs ?? 10_000);
  return startPglite(opts.dataDir);
}

async function connectRealPostgres(databaseUrl: string, timeoutMs: number): Promise<PostgresEngine> {
  const { host, port } = tcpAddressOf(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
  // Swallow idle-client errors (a restarted server); the next query reports its own error.
  pool.on("error", () => {});
  let lastError: unknown;
  try {
    // CI may start the service moments before the tests: retry while it is coming up, but stop at
    // errors that waiting cannot fix (wrong password, missing database).
    await waitFor(
      `Postgres at ${redactUrl(databaseUrl)}`,
      async () => {
        try {
          await pool.query("select 1");
          lastError = undefined;
          return true;
        } catch (error) {
          lastError = error;
          return !isStartingUp(error);
        }
      },
      timeoutMs,
    );
  } catch (timeout) {
    lastError ??= timeout;
  }
  if (lastError !== undefined) {
    await pool.end();
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    throw new Error(`cannot use Postgres at ${redactUrl(databaseUrl)}: ${reason}`);
  }
  return makeEngine("postgres", databaseUrl, host, port, pool, async () => {});
}

async function startPglite(dataDir: string | undefined): Promise<PostgresEngine> {
  const server = await startPgliteServer({ dataDir });
  // PGlite accepts any password; user and database are the ones initdb created.
  const databaseUrl = `postgres://postgres:postgres@${server.host}:${server.port}/postgres`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
  pool.on("error", () => {});
  return makeEngine("pglite", databaseUrl, server.host, server.port, pool, () => server.close());
}

function makeEngine(
  kind: PostgresEngine["kind"],
  databaseUrl: string,
  tcpHost: string,
  tcpPort: number,
  pool: pg.Pool,
  stopServer: () => Promise<void>,
): PostgresEngine {
  let closed: Promise<void> | undefined;
  return {
    kind,
    databaseUrl,
    tcpHost,
    tcpPort,
    async query(sql, params = []) {
      const result = await pool.query(sql, params);
      return {
        rows: result.rows,
        fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
        command: result.command,
        rowCount: result.rowCount ?? 0,
      };
    },
    close() {
      closed ??= pool.end().then(stopServer);
      return closed;
    },
  };
}

/** Errors a server that is still starting (or briefly restarting) gives: worth retrying. */
function isStartingUp(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // 57P03: cannot_connect_now ("the database system is starting up").
  return ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "57P03"].includes(String(code));
}

/** Host and port of a postgres:// URL, for the WebSocket proxy's TCP side. */
function tcpAddressOf(databaseUrl: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error(`DATABASE_URL is not a valid URL: ${redactUrl(databaseUrl)}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new Error(`DATABASE_URL must start with postgres:// (got ${url.protocol}//)`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost";
  return { host, port: url.port ? Number(url.port) : 5432 };
}
