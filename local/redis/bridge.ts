import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis, ReplyError } from "ioredis";
import { toUpstashValue, type UpstashValue } from "./reply";
import { createScriptRewriter, type RewrittenCommand } from "./scripts";

/** Round trips the bridge has served: HTTP requests carrying commands, and the commands in them. */
export interface BridgeStats {
  requests: number;
  commands: number;
}

/** An HTTP endpoint speaking Upstash's REST protocol in front of a real redis-server. */
export interface RedisBridge {
  /** http://127.0.0.1:port */
  url: string;
  token: string;
  port: number;
  stats(): BridgeStats;
  resetStats(): void;
  /** Delays every command request by `ms` from now on (0: none), also `POST /__bridge/delay {"ms":N}`. */
  setDelayMs(ms: number): void;
  close(): Promise<void>;
}

type Reply = { result: UpstashValue } | { error: string };

/** Thrown for requests the bridge refuses before Redis sees them (HTTP 400). */
class BadRequest extends Error {}

function parseCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== "string") {
    throw new BadRequest("ERR a command is a non-empty JSON array starting with its name");
  }
  // @upstash/redis already serialises values; numbers, booleans and null arrive as JSON literals.
  return value.map((arg) => (typeof arg === "string" ? arg : arg === null ? "" : JSON.stringify(arg)));
}

/** Upstash's own request limit is 1 MB on the free plan and 100 MB at most; refuse past 16 MB. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest("ERR request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BadRequest("ERR request body is not valid JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** A delay in whole milliseconds, at most a minute; anything else is refused. */
function validDelay(ms: unknown): number {
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 60_000) {
    throw new BadRequest("ERR the delay is a whole number of milliseconds in [0, 60000]");
  }
  return ms;
}

/** Starts the bridge; fails at once if Redis cannot be reached at `opts.redisUrl`. */
export async function startRedisBridge(opts: {
  redisUrl: string;
  token: string;
  port?: number;
  /** Default 127.0.0.1; a self-hosted service may listen on a private address. */
  host?: string;
  /** Added before each command request: the round trip to a distant Upstash primary (the bench's latency mode). */
  delayMs?: number;
}): Promise<RedisBridge> {
  const redis = new Redis(opts.redisUrl, {
    lazyConnect: true,
    // While Redis is down every request must fail at once rather than queue or retry, and the
    // connection must come back by itself once Redis is up again.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
  });
  // Failures reach callers per request; without a listener ioredis logs every reconnect attempt.
  redis.on("error", () => {});
  await redis.connect().catch((error: Error) => {
    redis.disconnect();
    throw new Error(`Redis bridge cannot reach Redis: ${error.message}`);
  });

  const rewrite = createScriptRewriter();
  const expectedAuth = createHash("sha256").update(`Bearer ${opts.token}`).digest();
  const isAuthorized = (header: string | undefined) =>
    timingSafeEqual(
      createHash("sha256")
        .update(header ?? "")
        .digest(),
      expectedAuth,
    );
  let stats: BridgeStats = { requests: 0, commands: 0 };
  let delayMs = validDelay(opts.delayMs ?? 0);

  /** Redis's own errors (wrong type, NOSCRIPT...) become replies; connection failures propagate. */
  const toReply = (command: RewrittenCommand, error: unknown, result: unknown, base64: boolean): Reply => {
    if (error instanceof ReplyError) return { error: (error as Error).message };
    if (error) throw error;
    return { result: toUpstashValue(command.replyOverride ?? result, base64) };
  };

  const runOne = async (command: RewrittenCommand, base64: boolean): Promise<Reply> => {
    const [name = "", ...args] = command.args;
    const [error, result] = await redis.callBuffer(name, ...args).then(
      (value) => [null, value],
      (reason) => [reason, null],
    );
    return toReply(command, error, result, base64);
  };

  const runBatch = async (commands: RewrittenCommand[], atomic: boolean, base64: boolean) => {
    const batch = atomic ? redis.multi() : redis.pipeline();
    for (const { args } of commands) batch.callBuffer(args[0] ?? "", ...args.slice(1));
    const results = await batch.exec().catch((error: Error & { previousErrors?: Error[] }) => {
      // EXECABORT alone does not say which queued command was refused.
      if (error.previousErrors) error.message += `: ${error.previousErrors.map((e) => e.message).join("; ")}`;
      throw error;
    });
    return (results ?? []).map(([error, result], i) =>
      toReply(commands[i] as RewrittenCommand, error, result, base64),
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!isAuthorized(req.headers.authorization)) return send(res, 401, { error: "Unauthorized" });
    const path = new URL(req.url ?? "/", "http://bridge").pathname;
    if (path === "/__bridge/stats" && req.method === "GET") return send(res, 200, stats);
    if (path === "/__bridge/reset-stats" && req.method === "POST") {
      stats = { requests: 0, commands: 0 };
      return send(res, 200, { result: "OK" });
    }
    if (path === "/__bridge/delay" && req.method === "POST") {
      delayMs = validDelay(((await readJson(req)) as { ms?: unknown } | null)?.ms);
      return send(res, 200, { result: "OK" });
    }
    const base64 = req.headers["upstash-encoding"] === "base64";
    const batched = path === "/pipeline" || path === "/multi-exec";
    let commands: string[][];
    if (batched || (path === "/" && req.method === "POST")) {
      const body = await readJson(req);
      if (batched && (!Array.isArray(body) || body.length === 0)) {
        throw new BadRequest("ERR a pipeline is a non-empty JSON array of commands");
      }
      commands = batched ? (body as unknown[]).map(parseCommand) : [parseCommand(body)];
    } else {
      // Upstash's URL form, handy with curl: GET /set/key/value
      commands = [parseCommand(path.slice(1).split("/").map(decodeURIComponent))];
    }
    stats.requests += 1;
    stats.commands += commands.length;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    // Fail fast while Redis is down; ioredis would reject anyway, this just says why.
    if (redis.status !== "ready") throw new Error(`Redis is unavailable (connection ${redis.status})`);
    const rewritten = commands.map(rewrite);
    if (!batched) {
      const reply = await runOne(rewritten[0] as RewrittenCommand, base64);
      return send(res, "error" in reply ? 400 : 200, reply);
    }
    send(res, 200, await runBatch(rewritten, path === "/multi-exec", base64));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      const status = error instanceof BadRequest || error instanceof ReplyError ? 400 : 503;
      send(res, status, { error: error.message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: opts.token,
    port,
    stats: () => ({ ...stats }),
    resetStats: () => {
      stats = { requests: 0, commands: 0 };
    },
    setDelayMs: (ms) => {
      delayMs = validDelay(ms);
    },
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections(); // the client keeps connections alive
      await closed;
      redis.disconnect();
    },
  };
}
