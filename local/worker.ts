import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./net";

export interface ServedWorker {
  url: string;
  /** Resolves when wrangler exits on its own (not through `stop`). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Serves the worker in workerd with `wrangler dev` on 127.0.0.1:`port`, its bindings passed
 * through a private env file (never on the command line, where `ps` would show secrets).
 * Resolves once /healthz answers.
 */
export async function serveWorker(opts: {
  vars: Record<string, string>;
  port: number;
  quiet?: boolean;
}): Promise<ServedWorker> {
  const scratch = mkdtempSync(join(tmpdir(), "sluice-worker-"));
  const envFile = join(scratch, "dev.vars");
  writeFileSync(
    envFile,
    Object.entries(opts.vars)
      .map(([k, v]) => `${k}='${v}'`)
      .join("\n"),
    { mode: 0o600 },
  );
  const child: ChildProcess = spawn(
    join("node_modules", ".bin", "wrangler"),
    [
      "dev",
      "--port",
      String(opts.port),
      "--ip",
      "127.0.0.1",
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
    ],
    {
      detached: true,
      stdio: ["ignore", opts.quiet ? "ignore" : "inherit", "inherit"],
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    },
  );
  let stopping = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => !stopping && resolve(code)),
  );
  const stop = async () => {
    stopping = true;
    try {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
    rmSync(scratch, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitFor(`the worker on ${url}/healthz`, async () => (await fetch(`${url}/healthz`)).ok, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, exited, stop };
}
