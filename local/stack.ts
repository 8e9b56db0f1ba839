import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { devConfig, MOCK_PROVIDER_KEY } from "./dev-config";
import { startMockProvider } from "./mock-provider";
import { freePort } from "./net";
import { startPostgresEngine } from "./postgres/engine";
import { migrateDatabase } from "./postgres/migrate";
import { neonConnectionString, startNeonProxy } from "./postgres/neon-http";
import { startRedisBridge } from "./redis/bridge";
import { type RedisKind, startRedisServer } from "./redis/server";

export interface StackOptions {
  /** A real Postgres to use; without it, PGlite runs embedded. */
  databaseUrl?: string;
}

/** Everything the worker needs locally, started on free ports; `stop()` ends it all. */
export interface Stack {
  /** Bindings for the worker: URLs, tokens and config as strings. */
  bindings: Record<string, string>;
  mockUrl: string;
  controlUrl: string;
  postgresKind: "postgres" | "pglite";
  /** `redis-server` from the PATH, or the embedded Redis when it is absent. */
  redisKind: RedisKind;
  stop(): Promise<void>;
}

/**
 * Starts Redis (redis-server, or the embedded one when it is not on the PATH) + the Upstash REST bridge, Postgres (real or PGlite) + the Neon endpoint
 * (migrated), the mock provider and a control endpoint tests inside workerd can call.
 * The one launcher behind both `npm run dev` and the tests' global setup.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const redis = await startRedisServer();
    stops.push(() => redis.stop());
    const redisToken = randomBytes(24).toString("hex");
    const bridge = await startRedisBridge({ redisUrl: redis.url, token: redisToken });
    stops.push(() => bridge.close());

    const engine = await startPostgresEngine({ databaseUrl: options.databaseUrl });
    stops.push(() => engine.close());
    await migrateDatabase(engine);
    const neon = await startNeonProxy({ engine });
    stops.push(() => neon.close());

    const mock = await startMockProvider();
    stops.push(() => mock.close());

    const control = await startControl({
      "POST /redis/stop": () => redis.stop(),
      "POST /redis/start": () => redis.start(),
      "GET /redis/stats": async () => bridge.stats(),
      "POST /redis/reset-stats": async () => bridge.resetStats(),
      "POST /postgres/down": async () => neon.setDown(true),
      "POST /postgres/up": async () => neon.setDown(false),
    });
    stops.push(() => control.close());

    const bindings: Record<string, string> = {
      SLUICE_CONFIG: JSON.stringify(devConfig(mock.url)),
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: redisToken,
      DATABASE_URL: neonConnectionString(engine),
      NEON_FETCH_ENDPOINT: neon.sqlEndpoint,
      MOCK_API_KEY: MOCK_PROVIDER_KEY,
      MOCK_PROVIDER_URL: mock.url,
      SLUICE_TEST_CONTROL_URL: control.url,
    };
    return {
      bindings,
      mockUrl: mock.url,
      controlUrl: control.url,
      postgresKind: engine.kind,
      redisKind: redis.kind,
      stop: () => stopAll(stops),
    };
  } catch (err) {
    await stopAll(stops);
    throw err;
  }
}

async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops.reverse()) await stop().catch(() => {});
}

type ControlAction = () => Promise<unknown>;

/** A tiny HTTP server exposing stack actions (stop Redis, take Postgres down) to tests in workerd. */
async function startControl(
  actions: Record<string, ControlAction>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const action = actions[`${req.method} ${req.url}`];
    if (!action) {
      res.writeHead(404).end();
      return;
    }
    action().then(
      (result) => {
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify(result ?? { ok: true }));
      },
      (err: Error) => {
        res
          .writeHead(500, { "content-type": "application/json" })
          .end(JSON.stringify({ error: err.message }));
      },
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
