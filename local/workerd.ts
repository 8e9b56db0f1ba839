/**
 * Serves a built bundle with the `workerd` binary itself, the way a self-hosted gateway runs: one
 * generated config, bindings read from workerd's environment, no `wrangler dev` (whose DevTools
 * reporting opens a connection per relayed chunk and copies binding values) and no inspector
 * unless asked for. The one place the project writes a workerd config: dev, tests and the bench.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Bundle } from "./bundle";
import { waitFor } from "./net";

/** A running workerd serving one bundle. */
export interface Workerd {
  url: string;
  /** The workerd process itself (its CPU time, memory and open files are its own). */
  pid: number;
  /** Resolves with workerd's exit code whenever it exits, asked to or not. */
  exited: Promise<number | null>;
  /** The last few KB of workerd's stdout + stderr. */
  output(): string;
  /** SIGTERM, SIGKILL after a grace period; resolves once workerd has exited. */
  stop(): Promise<void>;
}

/** Where workerd's output goes besides the kept tail: the terminal, nowhere, or a callback. */
export type OutputSink = "inherit" | "ignore" | ((text: string) => void);

export interface WorkerdOptions {
  /** The repo root, where node_modules holds the workerd binary. */
  root: string;
  bundle: Bundle;
  /** Serves on 127.0.0.1:`port`. */
  port: number;
  /**
   * Binding name → value. Values reach workerd through its environment only (`fromEnvironment`),
   * never the config file or the command line, where `ps` and file readers would see them.
   */
  bindings: Record<string, string>;
  /** When set, a second loopback socket on this port where any request runs the scheduled handler. */
  cronPort?: number;
  /** Extra `workerd serve` arguments, e.g. `--inspector-addr=...` for the bench's profiles. */
  extraArgs?: string[];
  output?: OutputSink;
}

/** The flags every workerd the project starts runs with (STACK.md: heap cap, small young generation). */
export const V8_FLAGS = ["--max-semi-space-size=1", "--max-old-space-size=128"];

/** The cron expression passed to the scheduled handler when the cron socket is called. */
const CRON = "* * * * *";

/** The real binary: the npm package's postinstall places it in bin/; the platform package has it too. */
export function workerdBinary(root: string): string {
  const platform = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch === "x64" ? "64" : process.arch}`;
  const candidates = [
    join(root, "node_modules", "@cloudflare", `workerd-${platform}`, "bin", "workerd"),
    join(root, "node_modules", "workerd", "bin", "workerd"),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error("no workerd binary under node_modules: run `npm install`");
  return found;
}

/** Cap'n Proto text literal; JSON's escapes (\" \\ \n \t) are the ones capnp reads too. */
function capnpString(value: string): string {
  if (/[^\x20-\x7e]/.test(value)) throw new Error(`unexpected character in workerd config value ${value}`);
  return JSON.stringify(value);
}

/**
 * A worker that runs the main worker's scheduled handler, as the Cloudflare cron trigger would:
 * workerd has no cron of its own. Reached only on its own loopback socket.
 */
const CRON_WORKER = `export default {
  async fetch(request, env) {
    const result = await env.MAIN.scheduled({ cron: ${JSON.stringify(CRON)} });
    return Response.json(result, { status: result.outcome === "ok" ? 200 : 500 });
  },
};`;

/**
 * The workerd config: the bundle's modules embedded, bindings from workerd's environment, outbound
 * fetches allowed to public, private and loopback addresses (local upstreams), the heap cap, the
 * static assets (wrangler.toml `[assets]`) as a read-only disk service under the assets binding's
 * name (its fetch answers a file by path, as Cloudflare's binding does), and optionally the cron
 * socket.
 * @example writeFileSync("w.capnp", workerdConfig(bundle, { port: 8787, bindingNames: ["SLUICE_CONFIG"] }));
 */
export function workerdConfig(
  bundle: Bundle,
  options: { port: number; bindingNames: string[]; cronPort?: number },
): string {
  const modules = bundle.modules.map(
    (m) => `      (name = ${capnpString(m.name)}, ${m.type} = embed ${capnpString(m.name)}),`,
  );
  const bindings = options.bindingNames.map(
    (name) => `      (name = ${capnpString(name)}, fromEnvironment = ${capnpString(name)}),`,
  );
  const assets = bundle.assets;
  const assetsService = assets
    ? `
    (name = "assets", disk = (path = ${capnpString(assets.directory)}, writable = false)),`
    : "";
  const assetsBinding = assets ? `\n      (name = ${capnpString(assets.binding)}, service = "assets"),` : "";
  const cron = options.cronPort !== undefined;
  const cronService = `
    (name = "cron", worker = (
      modules = [(name = "cron.js", esModule = ${capnpString(CRON_WORKER.replace(/\n\s*/g, " "))})],
      bindings = [(name = "MAIN", service = "main")],
      compatibilityDate = ${capnpString(bundle.compatibilityDate)},
      compatibilityFlags = ["service_binding_extra_handlers"],
    )),`;
  const cronSocket = `
    (name = "cron", address = ${capnpString(`127.0.0.1:${options.cronPort}`)}, http = (), service = "cron"),`;
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),${assetsService}${cron ? cronService : ""}
  ],
  sockets = [
    (name = "http", address = ${capnpString(`127.0.0.1:${options.port}`)}, http = (), service = "main"),${cron ? cronSocket : ""}
  ],
  v8Flags = [${V8_FLAGS.map(capnpString).join(", ")}],
);

const worker :Workerd.Worker = (
  modules = [
${modules.join("\n")}
  ],
  bindings = [
${bindings.join("\n")}${assetsBinding}
  ],
  compatibilityDate = ${capnpString(bundle.compatibilityDate)},
  compatibilityFlags = [${bundle.compatibilityFlags.map(capnpString).join(", ")}],
  globalOutbound = "internet",
);
`;
}

/**
 * Kills `pid` when this Node process goes away, even by SIGKILL: a shell blocked reading our pipe
 * sees EOF when we die. So no workerd outlives `npm run dev`, a test run or the bench.
 */
function watchdog(pid: number): ChildProcess {
  const guard = spawn("/bin/sh", ["-c", 'read -r _; kill "$0" 2>/dev/null', String(pid)], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  guard.unref();
  return guard;
}

/**
 * Writes the config next to the bundle, starts `workerd serve` and waits until /healthz answers.
 * @example const w = await startWorkerd({ root, bundle, port, bindings: { UPSTREAM_URL: url } }); ...; await w.stop();
 */
export async function startWorkerd(options: WorkerdOptions): Promise<Workerd> {
  const { bundle, port } = options;
  const configPath = join(bundle.dir, `workerd-${port}.capnp`);
  writeFileSync(
    configPath,
    workerdConfig(bundle, { port, bindingNames: Object.keys(options.bindings), cronPort: options.cronPort }),
  );
  const child = spawn(
    workerdBinary(options.root),
    [
      "serve",
      configPath,
      // The cron worker's `scheduled()` on a service binding is behind an experimental flag; the
      // gateway's own worker declares no experimental flag, so it runs as it would without this.
      ...(options.cronPort !== undefined ? ["--experimental"] : []),
      ...(options.extraArgs ?? []),
    ],
    {
      cwd: bundle.dir,
      // Only what workerd needs: the binding values and a PATH, nothing else of ours.
      env: { PATH: process.env.PATH ?? "", ...options.bindings },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) => reject(new Error(`could not start workerd: ${err.message}`)));
  });
  const pid = child.pid as number;
  const guard = watchdog(pid);
  let tail = "";
  const sink = options.output ?? "inherit";
  const forward = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-8_000);
    if (sink === "inherit") stream.write(text);
    else if (typeof sink === "function") sink(text);
  };
  child.stdout?.on("data", forward(process.stdout));
  child.stderr?.on("data", forward(process.stderr));
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    const ended = (code: number | null) => {
      running = false;
      guard.kill("SIGKILL");
      resolve(code);
    };
    child.once("exit", ended);
  });
  const stop = async () => {
    if (!running) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    // An early exit also ends the wait, so a bad config fails at once rather than after the timeout.
    await waitFor(
      `workerd serving ${bundle.name} on ${url}`,
      async () => {
        if (!running) return true;
        const res = await fetch(`${url}/healthz`);
        await res.arrayBuffer();
        return true;
      },
      30_000,
    );
    if (!running) throw new Error("workerd exited");
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message} while starting ${bundle.name}. workerd said:\n${tail.trim()}`);
  }
  return { url, pid, exited, output: () => tail, stop };
}
