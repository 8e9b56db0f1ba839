/**
 * Child process entry for the benchmark's local services, so that they never share an event loop
 * with the load generator:
 *   node --import tsx bench/services.ts mock           the bare mock provider (the upstream)
 *   node --import tsx bench/services.ts stack <mockUrl> <upstreamTtfbMs>
 *                                                       redis + Upstash bridge, Postgres + Neon
 *                                                       endpoint, keys, and the gateway's bindings
 * Prints one line `BENCH_READY <json>` when ready; stops on SIGTERM or when stdin closes (the
 * parent died).
 */
import { randomBytes } from "node:crypto";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { startMockProvider } from "../local/mock-provider";
import { startStack } from "../local/stack";
import { generateSigningKey, importSigningKey, mintKey } from "../src/auth";
import { NEAR_LIMIT_PLAN, withLatencyConfig } from "./latency";
import { benchConfig } from "./scenarios";
import { SOAK_TENANT, withSoakConfig } from "./soak-mix";

/** What `stack` mode hands the parent. */
export interface StackReady {
  bindings: Record<string, string>;
  /** A key on the `bench` plan: every limit checked, none reached. */
  apiKey: string;
  /** A key whose token headroom is never ten reservations (latency mode: no speculative dispatch). */
  nearLimitKey: string;
  /** A key on the `bench` plan for the soak, alone in its tenant (its usage rows are counted). */
  soakKey: string;
  /** The Upstash bridge, for its `/__bridge/delay` (latency mode). */
  bridge: { url: string; token: string };
  /** GET /redis/stats → { requests, commands } of the Upstash bridge. */
  controlUrl: string;
  /** GET → { requests } made to the Neon /sql endpoint. */
  neonCountUrl: string;
  postgresKind: "postgres" | "pglite";
}

/** A transparent HTTP proxy that counts requests; answers `GET /__bench/count` itself. */
async function startCountingProxy(target: URL): Promise<{ url: string; close(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  let requests = 0;
  const server = createServer((req, res) => {
    if (req.url === "/__bench/count") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests }));
      return;
    }
    requests += 1;
    const upstream = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

async function startMock(): Promise<{ ready: unknown; stop(): Promise<void> }> {
  const mock = await startMockProvider();
  // The mock records every request for tests; forget them so memory stays flat under load.
  const forget = setInterval(() => mock.clear(), 500);
  return {
    ready: { url: mock.url },
    stop: async () => {
      clearInterval(forget);
      await mock.close();
    },
  };
}

async function startBackingStack(
  mockUrl: string,
  upstreamTtfbMs: number,
): Promise<{ ready: StackReady; stop(): Promise<void> }> {
  const stack = await startStack({ databaseUrl: process.env.DATABASE_URL });
  try {
    const neonEndpoint = new URL(stack.bindings.NEON_FETCH_ENDPOINT ?? "");
    const counter = await startCountingProxy(neonEndpoint);
    const pair = await generateSigningKey("bench-1");
    const signer = await importSigningKey(pair.privateJwk);
    const mint = async (tenant: string, plan: string) =>
      (
        await mintKey(
          signer,
          { tenant, name: `${tenant} key`, plan },
          { issuer: "sluice", audience: "sluice" },
        )
      ).token;
    const config = withSoakConfig(withLatencyConfig(benchConfig(mockUrl), mockUrl, upstreamTtfbMs), mockUrl);
    const bindings: Record<string, string> = {
      ...stack.bindings,
      SLUICE_CONFIG: JSON.stringify(config),
      NEON_FETCH_ENDPOINT: `${counter.url}${neonEndpoint.pathname}`,
      SLUICE_JWKS: JSON.stringify({ keys: [pair.publicJwk] }),
      SLUICE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
      ADMIN_TOKEN: randomBytes(24).toString("hex"),
    };
    return {
      ready: {
        bindings,
        apiKey: await mint("bench", "bench"),
        nearLimitKey: await mint("bench-near-limit", NEAR_LIMIT_PLAN),
        soakKey: await mint(SOAK_TENANT, "bench"),
        bridge: {
          url: stack.bindings.UPSTASH_REDIS_REST_URL ?? "",
          token: stack.bindings.UPSTASH_REDIS_REST_TOKEN ?? "",
        },
        controlUrl: stack.controlUrl,
        neonCountUrl: `${counter.url}/__bench/count`,
        postgresKind: stack.postgresKind,
      },
      stop: async () => {
        await counter.close();
        await stack.stop();
      },
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

async function main(): Promise<void> {
  const [mode, mockUrl, ttfb] = process.argv.slice(2);
  let service: { ready: unknown; stop(): Promise<void> };
  if (mode === "mock") service = await startMock();
  else if (mode === "stack" && mockUrl) service = await startBackingStack(mockUrl, Number(ttfb ?? 300));
  else throw new Error("usage: bench/services.ts mock | stack <mockUrl> [upstreamTtfbMs]");

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    service.stop().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  process.stdout.write(`BENCH_READY ${JSON.stringify(service.ready)}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
