import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "./net";
import type { OutputSink } from "./workerd";
import { discardBuild, type PendingBuild, serveBuiltWorker, startBuild } from "./workerd-serve";

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * How the worker is served locally:
 * - `workerd` (default): the bundle `npm run build` makes, on the `workerd` binary, as self-hosted
 *   production runs it. Cheap per request, nothing reported anywhere.
 * - `wrangler`: `wrangler dev`, for its DevTools. Unsafe under load: it reports every relayed chunk
 *   to DevTools over a new loopback connection (a long stream exhausts workerd's file descriptors)
 *   and those reports carry binding values.
 */
export type DevRuntime = "workerd" | "wrangler";

export interface ServedWorker {
  url: string;
  runtime: DevRuntime;
  /** The process serving now (workerd, or wrangler's Node process); it changes on each reload. */
  pid(): number;
  /** Resolves when the server exits on its own (not through `stop`, not on a reload). */
  exited: Promise<number | null>;
  /** Runs the scheduled (cron) handler once; workerd with `cron` only. */
  scheduled(): Promise<void>;
  stop(): Promise<void>;
}

/** A wrangler.toml (its `main` is the entry) and the folder whose changes trigger a reload. */
export interface Project {
  configPath: string;
  srcDir: string;
  /** The entry module wrangler writes; index.js by default. */
  entry?: string;
}

export interface ServeOptions {
  /** Binding name → value; never written to the command line. */
  vars: Record<string, string>;
  port: number;
  runtime?: DevRuntime;
  /** Drop the server's output (same as `output: "ignore"`). */
  quiet?: boolean;
  /** Where the server's stdout/stderr go; the terminal by default. */
  output?: OutputSink;
  /** workerd: rebuild and restart on changes under src/ (and wrangler.toml). wrangler dev always watches. */
  watch?: boolean;
  /** workerd: run the scheduled handler every minute, as the cron trigger does on Cloudflare. */
  cron?: boolean;
  /** Another wrangler.toml and source folder to serve (tests of the reload itself). */
  project?: Project;
  /** workerd: the build `prebuildWorker` started, e.g. while the local stack was starting. */
  prebuilt?: PendingBuild;
  /** Where reload and cron lines go; console.log by default. */
  log?: (line: string) => void;
}

/**
 * Picks the runtime from `--wrangler` on the command line or `SLUICE_DEV_RUNTIME=wrangler`.
 * @example devRuntime(["--wrangler"], {}) // "wrangler"
 */
export function devRuntime(argv: string[], env: NodeJS.ProcessEnv): DevRuntime {
  if (argv.includes("--wrangler")) return "wrangler";
  const chosen = env.SLUICE_DEV_RUNTIME;
  if (chosen === undefined || chosen === "" || chosen === "workerd") return "workerd";
  if (chosen === "wrangler") return "wrangler";
  throw new Error(`SLUICE_DEV_RUNTIME must be "workerd" or "wrangler", not "${chosen}"`);
}

/**
 * Starts bundling the worker (`wrangler deploy --dry-run`) before its bindings are known, so the
 * build overlaps the local stack's start; pass the result to `serveWorker` as `prebuilt`.
 * @example const prebuilt = prebuildWorker(); const stack = await startStack(); await serveWorker({ vars, port, prebuilt });
 */
export function prebuildWorker(project?: Project): PendingBuild {
  return startBuild({ root: ROOT, configPath: project?.configPath, entry: project?.entry });
}

/**
 * Serves the worker on 127.0.0.1:`port` and resolves once /healthz answers.
 * @example const worker = await serveWorker({ vars: stack.bindings, port: 8787, watch: true });
 */
export async function serveWorker(opts: ServeOptions): Promise<ServedWorker> {
  const output: OutputSink = opts.quiet ? "ignore" : (opts.output ?? "inherit");
  if (opts.runtime === "wrangler") {
    if (opts.prebuilt) discardBuild(opts.prebuilt);
    return serveWithWrangler(opts, output);
  }
  const worker = await serveBuiltWorker({
    build: opts.prebuilt ?? prebuildWorker(opts.project),
    bindings: opts.vars,
    port: opts.port,
    output,
    watchDir: opts.watch ? (opts.project?.srcDir ?? join(ROOT, "src")) : undefined,
    cron: opts.cron,
    log: opts.log,
  });
  return { ...worker, runtime: "workerd" };
}

/**
 * `wrangler dev` on 127.0.0.1:`port`, its bindings passed through a private env file (never on
 * the command line, where `ps` would show secrets). Kept as an opt-in for wrangler's DevTools.
 */
async function serveWithWrangler(opts: ServeOptions, output: OutputSink): Promise<ServedWorker> {
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
    join(ROOT, "node_modules", ".bin", "wrangler"),
    [
      "dev",
      ...(opts.project ? ["--config", opts.project.configPath] : []),
      "--port",
      String(opts.port),
      "--ip",
      "127.0.0.1",
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", output === "inherit" ? "inherit" : "pipe", output === "inherit" ? "inherit" : "pipe"],
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    },
  );
  if (typeof output === "function") {
    child.stdout?.on("data", (chunk: Buffer) => output(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output(chunk.toString()));
  }
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
  return {
    url,
    runtime: "wrangler",
    pid: () => child.pid ?? 0,
    exited,
    scheduled: () => Promise.reject(new Error("wrangler dev: no scheduled trigger here")),
    stop,
  };
}
