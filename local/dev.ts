/**
 * `npm run dev`: the local stack (Redis, Postgres, mock provider) plus the worker in workerd via
 * `wrangler dev`, with a demo key, on PORT (default 8787). Ctrl-C or SIGTERM stops everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKey, importSigningKey, mintKey } from "../src/auth";
import { loadConfig } from "../src/config";
import { waitFor } from "./net";
import { startStack } from "./stack";

const port = Number(process.env.PORT ?? 8787);

async function main(): Promise<void> {
  const stack = await startStack({ databaseUrl: process.env.DATABASE_URL });
  const scratch = mkdtempSync(join(tmpdir(), "sluice-dev-"));
  let wrangler: ChildProcess | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (wrangler?.pid) {
      try {
        process.kill(-wrangler.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
    await stack.stop();
    rmSync(scratch, { recursive: true, force: true });
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
  const vars: Record<string, string> = {
    ...stack.bindings,
    SLUICE_JWKS: JSON.stringify({ keys: [pair.publicJwk] }),
    SLUICE_SIGNING_KEY: JSON.stringify(pair.privateJwk),
    ADMIN_TOKEN: adminToken,
  };
  // Fail here, with the path of the bad field, rather than on the first request.
  loadConfig({ SLUICE_CONFIG: vars.SLUICE_CONFIG });

  const envFile = join(scratch, "dev.vars");
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}='${v}'`)
      .join("\n"),
    { mode: 0o600 },
  );
  wrangler = spawn(
    join("node_modules", ".bin", "wrangler"),
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
    ],
    {
      detached: true,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    },
  );
  wrangler.on("exit", (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code}); stopping the local stack.`);
      void stop(code ?? 1);
    }
  });

  const base = `http://127.0.0.1:${port}`;
  await waitFor(`the gateway on ${base}/healthz`, async () => (await fetch(`${base}/healthz`)).ok, 60_000);
  console.log(
    [
      "",
      "sluice is running on embedded local services (mock provider, Redis, Postgres).",
      "",
      `OPENAI_BASE_URL=${base}/v1`,
      `OPENAI_API_KEY=${demo.token}`,
      `SLUICE_ADMIN_TOKEN=${adminToken}`,
      "",
      "Try it:",
      `curl ${base}/v1/chat/completions -H "Authorization: Bearer ${demo.token}" -H "Content-Type: application/json" -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'`,
      "",
      `Models: ${Object.keys(loadConfig({ SLUICE_CONFIG: vars.SLUICE_CONFIG }).routes).join(", ")}. Ctrl-C stops everything.`,
      "",
    ].join("\n"),
  );
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
