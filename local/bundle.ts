/**
 * Builds a worker the way a deploy does (`wrangler deploy --dry-run --outdir`) and lists what
 * workerd must load from the output. Shared by `npm run dev`, the tests' served worker and the bench.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** How workerd should load one file of the bundle. */
export type ModuleType = "esModule" | "commonJsModule" | "text" | "data" | "wasm" | "json";

/** A built worker: its folder, its modules (the main one first) and the runtime it was built for. */
export interface Bundle {
  name: string;
  dir: string;
  modules: { name: string; type: ModuleType }[];
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** wrangler.toml's `[assets]`: the static files folder (absolute) and the binding that reads it. */
  assets?: { directory: string; binding: string };
}

/** compatibility_date and compatibility_flags from a wrangler.toml (the two lines workerd needs). */
export function readCompatibility(wranglerToml: string): { date: string; flags: string[] } {
  const text = readFileSync(wranglerToml, "utf8");
  const date = /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (date === undefined) throw new Error(`${wranglerToml} has no compatibility_date`);
  const flagList = /^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? "";
  const flags = [...flagList.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  return { date, flags };
}

/**
 * The `[assets]` table of a wrangler.toml (`directory`, `binding`), with the folder made absolute;
 * undefined when it has none or no binding (workerd serves assets only through the binding).
 * @example readAssets("wrangler.toml") // { directory: "/repo/src/admin/static", binding: "ASSETS" }
 */
export function readAssets(wranglerToml: string): Bundle["assets"] {
  const table = /^\[assets\]\s*$([\s\S]*?)(?=^\s*\[|(?![\s\S]))/m.exec(
    readFileSync(wranglerToml, "utf8"),
  )?.[1];
  const directory = table && /^\s*directory\s*=\s*"([^"]+)"/m.exec(table)?.[1];
  const binding = table && /^\s*binding\s*=\s*"([^"]+)"/m.exec(table)?.[1];
  if (!directory || !binding) return undefined;
  return { directory: resolve(dirname(wranglerToml), directory), binding };
}

/** What to build: the wrangler.toml (its `main` is the entry) and what to call the result. */
export interface BuildTarget {
  /** The repo root: where node_modules/.bin/wrangler is, and wrangler's working directory. */
  root: string;
  /** Defaults to `<root>/wrangler.toml`. */
  configPath?: string;
  /** The entry module wrangler writes (the basename of `main`, as .js); defaults to index.js. */
  entry?: string;
  /** A label for messages; defaults to "gateway". */
  name?: string;
}

/**
 * Bundles a worker into `outdir` with `wrangler deploy --dry-run` and reads back its modules.
 * @example const bundle = await buildWorker({ root }, "/tmp/sluice/build-1");
 */
export async function buildWorker(target: BuildTarget, outdir: string): Promise<Bundle> {
  const configPath = target.configPath ?? join(target.root, "wrangler.toml");
  await wranglerBuild(target.root, ["--config", configPath, "--outdir", outdir]);
  const { date, flags } = readCompatibility(configPath);
  return {
    name: target.name ?? "gateway",
    dir: outdir,
    modules: listModules(outdir, target.entry ?? "index.js"),
    compatibilityDate: date,
    compatibilityFlags: flags,
    assets: readAssets(configPath),
  };
}

/**
 * Reads a bundle `npm run build` already wrote (to dist/), for self-hosting without rebuilding.
 * @example const bundle = readBundle(join(root, "dist"), join(root, "wrangler.toml"));
 */
export function readBundle(dir: string, configPath: string, entry = "index.js"): Bundle {
  const { date, flags } = readCompatibility(configPath);
  return {
    name: "gateway",
    dir,
    modules: listModules(dir, entry),
    compatibilityDate: date,
    compatibilityFlags: flags,
    assets: readAssets(configPath),
  };
}

/** Runs `wrangler deploy --dry-run <args>` in `root`; rejects with wrangler's output when it fails. */
function wranglerBuild(root: string, args: string[]): Promise<void> {
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  const env = {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    NO_COLOR: "1",
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(wrangler, ["deploy", "--dry-run", ...args], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-16_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) return resolvePromise();
      // wrangler's banner (version, rule) says nothing about what failed.
      const said = output
        .split("\n")
        .filter((line) => !/^(⛅️ wrangler|─+$)/.test(line.trim()))
        .join("\n");
      reject(new Error(`wrangler deploy --dry-run ${args.join(" ")} failed (exit ${code}):\n${said.trim()}`));
    });
  });
}

const TYPES_BY_EXTENSION: Record<string, ModuleType> = {
  js: "esModule",
  mjs: "esModule",
  cjs: "commonJsModule",
  wasm: "wasm",
  bin: "data",
  txt: "text",
  html: "text",
  sql: "text",
  json: "json",
};

/**
 * Every file wrangler emitted that the worker can import (source maps and README left out), with
 * the entry module first: workerd treats the first module as the main one.
 */
function listModules(dir: string, preferredMain: string): Bundle["modules"] {
  const modules: Bundle["modules"] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const name = relative(dir, path).split(sep).join("/");
      if (name === "README.md" || name.endsWith(".map") || name.endsWith(".capnp") || name.endsWith(".toml"))
        continue;
      const type = TYPES_BY_EXTENSION[name.slice(name.lastIndexOf(".") + 1)];
      if (type === undefined) throw new Error(`don't know how to load ${name} from the bundle in ${dir}`);
      modules.push({ name, type });
    }
  };
  walk(resolve(dir));
  const mainIndex = modules.findIndex((m) => m.name === preferredMain);
  const fallbackIndex = modules.findIndex((m) => m.type === "esModule" && !m.name.includes("/"));
  const index = mainIndex >= 0 ? mainIndex : fallbackIndex;
  if (index < 0) throw new Error(`no entry module in ${dir}`);
  const [main] = modules.splice(index, 1);
  return [main as Bundle["modules"][number], ...modules];
}
