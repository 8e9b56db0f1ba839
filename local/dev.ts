/**
 * `npm run dev`: the local stack (Redis, Postgres, mock provider) plus the worker, with a demo key,
 * on PORT (default 8787). The worker is the bundle a deploy uploads, served by the `workerd` binary
 * and rebuilt on every change under src/; `npm run dev -- --wrangler` (or SLUICE_DEV_RUNTIME=wrangler)
 * serves it with `wrangler dev` instead, for its DevTools. Ctrl-C or SIGTERM stops everything.
 */
import { randomBytes } from "node:crypto";
import { generateSigningKey, importSigningKey, mintKey } from "../src/auth";
import { loadDevSetup } from "./dev-setup";
import { startStack } from "./stack";
import { devRuntime, prebuildWorker, ROOT, type ServedWorker, serveWorker } from "./worker";

const port = Number(process.env.PORT ?? 8787);

async function main(): Promise<void> {
  const runtime = devRuntime(process.argv.slice(2), process.env);
  // The bundle builds while the local services start.
  const prebuilt = runtime === "workerd" ? prebuildWorker() : undefined;
  const stack = await startStack({ databaseUrl: process.env.DATABASE_URL });
  let worker: ServedWorker | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await worker?.stop();
    await stack.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  const pair = await generateSigningKey("dev-1");
  const signer = await importSigningKey(pair.privateJwk);
  const demo = await mintKey(
    signer,
    { tenant: "demo", name: "demo key" },
    { issuer: "sluice", audience: "sluice" },
  );
  const adminToken = `sk-admin-${randomBytes(24).toString("hex")}`;
  // Fail here, with the path of the bad field (or the missing key), rather than on the first request.
  let setup: ReturnType<typeof loadDevSetup>;
  try {
    setup = loadDevSetup({ root: ROOT, mockUrl: stack.mockUrl, env: process.env });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  const vars: Record<string, string> = {
    ...stack.bindings,
    ...setup.secrets,
    SLUICE_CONFIG: setup.configJson,
    SLUICE_JWKS: JSON.stringify({ keys: [pair.publicJwk] }),
    SLUICE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
    ADMIN_TOKEN: adminToken,
  };

  try {
    worker = await serveWorker({ vars, port, runtime, prebuilt, watch: true, cron: true });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  void worker.exited.then((code) => {
    console.error(
      `${runtime === "wrangler" ? "wrangler dev" : "workerd"} exited (${code}); stopping the local stack.`,
    );
    void stop(code ?? 1);
  });

  const base = worker.url;
  console.log(
    [
      "",
      `sluice is running on local services: Redis ${redisLabel(stack.redisKind)}, Postgres ${stack.postgresKind === "pglite" ? "embedded (PGlite)" : "from DATABASE_URL"}, the mock provider.`,
      setup.source === "mock"
        ? "Config: the mock setup (add sluice.config.json for your own, see sluice.config.example.json)."
        : `Config: ${setup.source === "mock+keys" ? "the mock setup, with real vendors for the keys you set" : setup.source}; provider keys: ${Object.keys(setup.secrets).join(", ") || "none"} (values not shown).`,
      "",
      `OPENAI_BASE_URL=${base}/v1`,
      `OPENAI_API_KEY=${demo.token}`,
      `SLUICE_ADMIN_TOKEN=${adminToken}`,
      "",
      "Try it:",
      `curl ${base}/v1/chat/completions -H "Authorization: Bearer ${demo.token}" -H "Content-Type: application/json" -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'`,
      "",
      `Dashboard: ${base}/admin/dashboard (paste SLUICE_ADMIN_TOKEN when asked)`,
      `Models: ${Object.entries(setup.routes)
        .map(([model, providers]) => `${model} (${providers.join(" → ")})`)
        .join(", ")}. Ctrl-C stops everything.`,
      runtime === "wrangler"
        ? "Served by wrangler dev (DevTools on). Unsafe under load: it opens a connection per streamed chunk and its DevTools reports carry binding values."
        : "Served like production: the built bundle on workerd. Edits under src/ rebuild and reload it.",
      "",
    ].join("\n"),
  );
}

function redisLabel(kind: string): string {
  return kind === "embedded" ? "embedded (redis-server is not on the PATH)" : "redis-server";
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
