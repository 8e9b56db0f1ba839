import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWorker } from "../../local/bundle";
import { devConfig, MOCK_PROVIDER_KEY } from "../../local/dev-config";
import { type MockProvider, startMockProvider } from "../../local/mock-provider";
import { freePort, waitFor } from "../../local/net";
import { type PostgresEngine, startPostgresEngine } from "../../local/postgres/engine";
import { type RedisServer, startRedisServer } from "../../local/redis/server";
import { generateSigningKey } from "../../src/auth";

// docs/self-hosting.md, followed by a test: one Redis behind `npm run serve:redis-rest`, one
// Postgres behind `npm run serve:neon-http`, and `npm run serve:gateway` running the built bundle
// on two workerd processes behind one address. Limits are shared: rpm 10 → exactly 10 of 20.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");

/** Starts `npm run <script>`'s entry with `env`; resolves once its output matches `ready`. */
async function serve(entry: string, env: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, [TSX, entry], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(entry, async () => ready.test(output) || child.exitCode !== null, 60_000);
  if (child.exitCode !== null) throw new Error(`${entry} exited: ${output}`);
  return { child, output: () => output };
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid, "SIGTERM");
  await exited;
}

describe.runIf(process.platform === "linux")(
  "self-hosting: two workerd processes, one Redis, one Postgres",
  () => {
    const scratch = mkdtempSync(join(tmpdir(), "sluice-self-host-"));
    const processes: ChildProcess[] = [];
    let redis: RedisServer;
    let engine: PostgresEngine;
    let mock: MockProvider;
    let url = "";
    let instances: string[] = [];
    let redisRest = "";
    let neonHttp = "";
    const adminToken = `sk-admin-${randomBytes(16).toString("hex")}`;

    beforeAll(async () => {
      const dist = join(scratch, "dist");
      const built = buildWorker({ root: ROOT }, dist); // `npm run build`, into a folder of our own
      redis = await startRedisServer();
      engine = await startPostgresEngine({ databaseUrl: process.env.DATABASE_URL });
      mock = await startMockProvider();

      const redisToken = randomBytes(24).toString("hex");
      const redisPort = await freePort();
      redisRest = `http://127.0.0.1:${redisPort}`;
      const rest = await serve(
        "local/self-host/redis-rest.ts",
        { REDIS_URL: redis.url, UPSTASH_REDIS_REST_TOKEN: redisToken, PORT: String(redisPort) },
        /serving Upstash's REST protocol/,
      );
      processes.push(rest.child);

      const neonToken = randomBytes(24).toString("hex");
      const neonPort = await freePort();
      neonHttp = `http://127.0.0.1:${neonPort}`;
      const neon = await serve(
        "local/self-host/neon-http.ts",
        { POSTGRES_URL: engine.databaseUrl, NEON_HTTP_TOKEN: neonToken, PORT: String(neonPort) },
        /NEON_FETCH_ENDPOINT=/,
      );
      processes.push(neon.child);
      expect(neon.output()).not.toContain(neonToken);

      await built;
      const pair = await generateSigningKey("self-1");
      const gateway = await serve(
        "local/self-host/main.ts",
        {
          SLUICE_DIST: dist,
          SLUICE_INSTANCES: "2",
          PORT: String(await freePort()),
          SLUICE_CONFIG: JSON.stringify(devConfig(mock.url)),
          SLUICE_JWKS: JSON.stringify({ keys: [pair.publicJwk] }),
          SLUICE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
          ADMIN_TOKEN: adminToken,
          UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${redisPort}`,
          UPSTASH_REDIS_REST_TOKEN: redisToken,
          DATABASE_URL: `postgres://sluice:${neonToken}@neon-http.internal/sluice`,
          NEON_FETCH_ENDPOINT: `http://127.0.0.1:${neonPort}/sql`,
          MOCK_API_KEY: MOCK_PROVIDER_KEY,
        },
        /instances: .+/,
      );
      processes.push(gateway.child);
      url = /behind (\S+)/.exec(gateway.output())?.[1] ?? "";
      instances = (/instances: (.+)/.exec(gateway.output())?.[1] ?? "").trim().split(" ");
    }, 120_000);

    afterAll(async () => {
      for (const child of processes.reverse()) await stopProcess(child);
      await mock?.close();
      await engine?.close();
      await redis?.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    it("runs two workerd processes, each with V8's heap capped", async () => {
      expect(instances).toHaveLength(2);
      expect(new Set(instances).size).toBe(2);
      for (const instance of [url, ...instances])
        expect((await fetch(`${instance}/healthz`)).status).toBe(200);
    });

    it("a key with rpm 10 gets exactly 10 of 20 requests spread across both processes", async () => {
      const tenant = `self-${crypto.randomUUID().slice(0, 8)}`;
      const created = await fetch(`${url}/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ tenant, limits: { rpm: 10 } }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const { key } = (await created.json()) as { key: string };

      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${instances[i % 2]}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: `hi ${i}` }] }),
        });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(10);
      // Through the one address too: the same shared window refuses.
      const again = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "again" }] }),
      });
      expect(again.status).toBe(429);

      // Every request, from either process, is a row in the one Postgres.
      await waitFor(
        "21 usage rows",
        async () => {
          const { rows } = await engine.query(
            "select count(*)::int as n from usage_events where tenant = $1",
            [tenant],
          );
          return rows[0]?.n === 21;
        },
        20_000,
      );
    });

    it("the Redis and Postgres endpoints refuse callers without their token, and have no test switches", async () => {
      const redisAnswer = await fetch(`${redisRest}/pipeline`, {
        method: "POST",
        headers: { authorization: "Bearer wrong", "content-type": "application/json" },
        body: JSON.stringify([["FLUSHALL"]]),
      });
      expect(redisAnswer.status).toBe(401);
      const sql = await fetch(`${neonHttp}/sql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "neon-connection-string": "postgres://sluice:not-the-token@neon-http.internal/sluice",
        },
        body: JSON.stringify({ query: "select 1", params: [] }),
      });
      expect(sql.status).toBe(401);
      const outage = await fetch(`${neonHttp}/__neon/outage`, { method: "POST", body: '{"down":true}' });
      expect(outage.status).toBe(404);
    });
  },
);
