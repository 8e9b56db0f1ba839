/**
 * Serves a built bundle with the `workerd` binary itself (not `wrangler dev`, whose extra proxy
 * and logging hop cost many times the worker's own CPU): one worker, one socket on 127.0.0.1.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, waitFor } from "../local/net";
import type { Bundle } from "./build";
import { type Child, startChild } from "./children";
import { processTree } from "./proc";

/** A workerd process serving one bundle. */
export interface Workerd {
  url: string;
  /** The workerd process itself: its CPU time and VmHWM are what the bench reports. */
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** The real binary (the npm package's postinstall places it in bin/; the platform package has it too). */
export function workerdBinary(root: string): string {
  const candidates = [
    join(root, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd"),
    join(root, "node_modules", "@cloudflare", "workerd-linux-arm64", "bin", "workerd"),
    join(root, "node_modules", "workerd", "bin", "workerd"),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error("bench: no workerd binary under node_modules: run `npm install`");
  return found;
}

/** Runs "$0" "$@" (workerd) and kills it when stdin reaches EOF; exits with workerd's status. */
const WATCHDOG = `exec 3<&0
"$0" "$@" </dev/null &
w=$!
(read -r _ <&3; kill "$w" 2>/dev/null) &
wait "$w"`;

/** The workerd process under the watchdog shell (its CPU and RSS are the ones to read). */
function findWorkerdPid(shellPid: number): number {
  for (const pid of processTree(shellPid)) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd") return pid;
    } catch {
      // Exited meanwhile.
    }
  }
  throw new Error(`bench: no workerd process under pid ${shellPid}`);
}

/** Cap'n Proto text literal; JSON's escapes (\" \\ \n \t) are the ones capnp reads too. */
function capnpString(value: string): string {
  if (/[^\x20-\x7e]/.test(value)) throw new Error(`bench: unexpected character in config value ${value}`);
  return JSON.stringify(value);
}

/**
 * The workerd config: the bundle's modules embedded, bindings read from workerd's environment (no
 * escaping of JSON or keys into capnp), outbound fetches allowed to loopback, and a small young
 * generation (STACK.md: removes the regular 6-15 ms scavenge stalls, lowers RSS).
 */
export function workerdConfig(bundle: Bundle, port: number, bindingNames: string[]): string {
  const modules = bundle.modules.map(
    (m) => `      (name = ${capnpString(m.name)}, ${m.type} = embed ${capnpString(m.name)}),`,
  );
  const bindings = bindingNames.map(
    (name) => `      (name = ${capnpString(name)}, fromEnvironment = ${capnpString(name)}),`,
  );
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "http", address = ${capnpString(`127.0.0.1:${port}`)}, http = (), service = "main"),
  ],
  v8Flags = ["--max-semi-space-size=1"],
);

const worker :Workerd.Worker = (
  modules = [
${modules.join("\n")}
  ],
  bindings = [
${bindings.join("\n")}
  ],
  compatibilityDate = ${capnpString(bundle.compatibilityDate)},
  compatibilityFlags = [${bundle.compatibilityFlags.map(capnpString).join(", ")}],
  globalOutbound = "internet",
);
`;
}

/**
 * Writes the config next to the bundle, starts `workerd serve` and waits until it answers HTTP.
 * @example const w = await serveBundle(root, bundle, { UPSTREAM_URL: mock.url }); ...; await w.stop();
 */
export async function serveBundle(
  root: string,
  bundle: Bundle,
  bindings: Record<string, string>,
  extraArgs: string[] = [],
): Promise<Workerd> {
  const port = await freePort();
  const configPath = join(bundle.dir, `workerd-${port}.capnp`);
  writeFileSync(configPath, workerdConfig(bundle, port, Object.keys(bindings)));
  // Through a small sh watchdog: if the bench dies without cleaning up (SIGKILL), its end of stdin
  // closes and the watchdog kills workerd, so no server outlives the run.
  const child: Child = startChild(
    "/bin/sh",
    ["-c", WATCHDOG, workerdBinary(root), "serve", configPath, ...extraArgs],
    {
      cwd: bundle.dir,
      env: { ...process.env, ...bindings },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  let pid = child.pid;
  child.process.once("exit", () => {
    exited = true;
  });
  try {
    // An early exit also ends the wait, so a bad config fails at once rather than after the timeout.
    await waitFor(`workerd serving ${bundle.name} on ${url}`, async () => {
      if (exited) return true;
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      return true;
    });
    if (exited) throw new Error("workerd exited");
    pid = findWorkerdPid(child.pid);
  } catch (err) {
    await child.stop();
    throw new Error(
      `bench: ${(err as Error).message} while starting ${bundle.name}. workerd said:\n${child.output().trim()}`,
    );
  }
  return { url, pid, output: child.output, stop: () => child.stop() };
}
