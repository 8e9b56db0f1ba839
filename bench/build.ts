/** Builds worker bundles the way a deploy would (`wrangler deploy --dry-run --outdir`). */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

/** How workerd should load one file of the bundle. */
export type ModuleType = "esModule" | "commonJsModule" | "text" | "data" | "wasm" | "json";

/** A built worker: its folder, its modules (the main one first) and the runtime it was built for. */
export interface Bundle {
  name: string;
  dir: string;
  modules: { name: string; type: ModuleType }[];
  compatibilityDate: string;
  compatibilityFlags: string[];
}

/** compatibility_date and compatibility_flags from a wrangler.toml (the two lines the bench needs). */
export function readCompatibility(wranglerToml: string): { date: string; flags: string[] } {
  const text = readFileSync(wranglerToml, "utf8");
  const date = /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (date === undefined) throw new Error(`${wranglerToml} has no compatibility_date`);
  const flagList = /^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? "";
  const flags = [...flagList.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  return { date, flags };
}

/**
 * Builds the gateway from the repo's own wrangler.toml into `outdir`.
 * @example const gateway = await buildGateway(root, "/tmp/x/gateway");
 */
export async function buildGateway(root: string, outdir: string): Promise<Bundle> {
  await wranglerBuild(root, ["--outdir", outdir]);
  const { date, flags } = readCompatibility(join(root, "wrangler.toml"));
  return {
    name: "gateway",
    dir: outdir,
    modules: listModules(outdir, "index.js"),
    compatibilityDate: date,
    compatibilityFlags: flags,
  };
}

/**
 * Builds bench/passthrough.ts with the same wrangler, compatibility date and flags as the gateway,
 * through a throwaway wrangler.toml next to the output (so the repo's config is not touched).
 */
export async function buildPassthrough(root: string, outdir: string): Promise<Bundle> {
  const { date, flags } = readCompatibility(join(root, "wrangler.toml"));
  const configPath = `${outdir}.wrangler.toml`;
  writeFileSync(
    configPath,
    [
      `name = "sluice-bench-passthrough"`,
      `main = ${JSON.stringify(join(root, "bench", "passthrough.ts"))}`,
      `compatibility_date = ${JSON.stringify(date)}`,
      `compatibility_flags = ${JSON.stringify(flags)}`,
      "",
    ].join("\n"),
  );
  await wranglerBuild(root, ["--config", configPath, "--outdir", outdir]);
  return {
    name: "passthrough",
    dir: outdir,
    modules: listModules(outdir, "passthrough.js"),
    compatibilityDate: date,
    compatibilityFlags: flags,
  };
}

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
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(`wrangler deploy --dry-run ${args.join(" ")} failed (exit ${code}):\n${output.trim()}`),
        );
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
      // wrangler.toml bundles Chart.js's UMD build as a Text module (see its [[rules]]).
      const type = name.endsWith("chart.umd.min.js")
        ? "text"
        : TYPES_BY_EXTENSION[name.slice(name.lastIndexOf(".") + 1)];
      if (type === undefined)
        throw new Error(`bench: don't know how to load ${name} from the bundle in ${dir}`);
      modules.push({ name, type });
    }
  };
  walk(resolve(dir));
  const mainIndex = modules.findIndex((m) => m.name === preferredMain);
  const fallbackIndex = modules.findIndex((m) => m.type === "esModule" && !m.name.includes("/"));
  const index = mainIndex >= 0 ? mainIndex : fallbackIndex;
  if (index < 0) throw new Error(`bench: no entry module in ${dir}`);
  const [main] = modules.splice(index, 1);
  return [main as Bundle["modules"][number], ...modules];
}
