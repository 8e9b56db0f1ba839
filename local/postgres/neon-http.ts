import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer } from "ws";
import type { PostgresEngine } from "./engine";
import { createRawTextPool, handleSqlRequest } from "./sql-over-http";
import { bridgeWebSocketToTcp } from "./ws-tcp-bridge";

/** A local stand-in for Neon's edge: SQL over HTTP at /sql and the WebSocket-to-TCP proxy at /v2. */
export interface NeonProxy {
  /** http://127.0.0.1:port */
  url: string;
  /** url + "/sql", for `neonConfig.fetchEndpoint`. */
  sqlEndpoint: string;
  port: number;
  /** While down, /sql answers 503 and WebSocket connections are refused or cut, like a stopped database. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export interface NeonProxyOptions {
  engine: PostgresEngine;
  /** Default: a free port picked by the OS. */
  port?: number;
  /** Default 127.0.0.1; a self-hosted service may listen on a private address. */
  host?: string;
  /**
   * Service mode (`npm run serve:neon-http`): /sql requires this password in the client's
   * connection string (the Neon driver sends it in `Neon-Connection-String`), and the test-only
   * routes (/__neon/outage, the /v2 WebSocket tunnel) are off.
   */
  token?: string;
}

/** True when the Neon-Connection-String header's password is `token` (compared in constant time). */
function carriesToken(header: string | string[] | undefined, token: string): boolean {
  let password = "";
  try {
    password = decodeURIComponent(new URL(String(header ?? "")).password);
  } catch {
    // Not a URL: no password.
  }
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(password), digest(token));
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers":
    "Authorization, Content-Type, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Batch-Isolation-Level, Neon-Batch-Read-Only, Neon-Batch-Deferrable",
  "Access-Control-Allow-Methods": "POST, OPTIONS",
};

/** Serves Neon's /sql and /v2 protocols for `engine` on 127.0.0.1, plus POST /__neon/outage for tests. */
export async function startNeonProxy(opts: NeonProxyOptions): Promise<NeonProxy> {
  const { engine, token } = opts;
  const pool = createRawTextPool(engine.databaseUrl);
  const tunnels = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true });
  let down = false;

  const setDown = (value: boolean) => {
    down = value;
    // A stopped database also drops the connections it had.
    if (down) for (const tcp of tunnels) tcp.destroy();
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, { message });
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS).end();
      return;
    }
    if (path === "/sql" && req.method === "POST") {
      if (token !== undefined && !carriesToken(req.headers["neon-connection-string"], token)) {
        return sendJson(res, 401, { message: "password authentication failed" });
      }
      const body = await readBody(req);
      if (body === undefined) return sendJson(res, 413, { message: "request body too large" });
      if (down) {
        return sendJson(res, 503, {
          message: "Couldn't connect to compute node: the database is down (simulated outage)",
        });
      }
      const reply = await handleSqlRequest(pool, body, req.headers);
      return sendJson(res, reply.status, reply.body, reply.headers);
    }
    if (path === "/__neon/outage" && token === undefined) {
      if (req.method === "GET") return sendJson(res, 200, { down });
      if (req.method === "POST") {
        const parsed = parseOutageBody(await readBody(req));
        if (parsed === undefined)
          return sendJson(res, 400, { message: 'expected JSON {"down": true|false}' });
        setDown(parsed);
        return sendJson(res, 200, { down });
      }
    }
    sendJson(res, 404, { message: `no route for ${req.method} ${path}` });
  }

  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== "/v2" || down || token !== undefined) {
      const status = down ? "503 Service Unavailable" : "404 Not Found";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // The `address` query parameter names the database host from the connection string; locally
      // there is one database, so every tunnel goes to the engine (and nowhere else).
      const tcp = bridgeWebSocketToTcp(ws, { host: engine.tcpHost, port: engine.tcpPort });
      tunnels.add(tcp);
      tcp.on("close", () => tunnels.delete(tcp));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("neon proxy has no TCP address");
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;

  let closed: Promise<void> | undefined;
  return {
    url,
    sqlEndpoint: `${url}/sql`,
    port: address.port,
    setDown,
    close() {
      closed ??= (async () => {
        for (const ws of wss.clients) ws.terminate();
        for (const tcp of tunnels) tcp.destroy();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        wss.close();
        await pool.end();
      })();
      return closed;
    },
  };
}

/**
 * A connection string for the Neon client: the engine's user, password and database (the WebSocket
 * path logs in with them) at a placeholder host, since the client reaches the proxy through
 * `neonConfig.fetchEndpoint` / `neonConfig.wsProxy`, never through this host.
 */
export function neonConnectionString(engine: PostgresEngine, host = "db.localtest.me"): string {
  const url = new URL(engine.databaseUrl);
  url.host = host;
  return url.toString();
}

/** The request body as text, or undefined when it exceeds MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseOutageBody(body: string | undefined): boolean | undefined {
  try {
    const parsed: unknown = JSON.parse(body ?? "");
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      typeof (parsed as { down?: unknown }).down === "boolean"
    ) {
      return (parsed as { down: boolean }).down;
    }
  } catch {
    // fall through: not JSON
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...CORS,
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
