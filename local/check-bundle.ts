/**
 * `npm run check:bundle` (run by CI before the tests): builds the deploy bundle exactly as
 * `wrangler deploy` would (`--dry-run`), and fails when wrangler's config is invalid (an error, or
 * a warning about wrangler.toml) or when the script outgrows its budget: 420 KiB gzipped (it is
 * ~390; `import { z } from "zod"` instead of `import * as z` alone brings back ~80 KiB (gzipped) of zod's
 * locales: the budget catches it; the ceiling is 600), well
 * under Cloudflare's limits (3 MiB gzipped on the Workers Free plan; 64 MiB uncompressed on every
 * plan, checked too), because an isolate compiles the whole script before its first answer. Static
 * files are Workers static assets, outside the script. It also fails when a module meant to load on
 * first use (LAZY: drizzle, the Neon driver, OpenTelemetry, the admin API) is reachable from the entry by static
 * imports: its top-level code would then run while every isolate starts. SLUICE_BUNDLE_GZIP_LIMIT
 * (bytes) overrides the budget; SLUICE_WRANGLER_CONFIG checks another wrangler.toml.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "./worker";

const KIB = 1024;
const MIB = 1024 * KIB;
/** The script's gzip budget (issue 18: a fast first request after an isolate starts). */
export const GZIP_BUDGET = 420 * KIB;
export const FREE_PLAN_GZIP_LIMIT = 3 * MIB;
export const UNCOMPRESSED_LIMIT = 64 * MIB;

/** Raw and gzip size of every uploadable module in a bundle folder (source maps left out). */
export function measureBundle(dir: string): { raw: number; gzip: number; files: number } {
  let raw = 0;
  let gzip = 0;
  let files = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.(map|md|capnp|toml)$/.test(entry)) {
        const bytes = readFileSync(path);
        raw += bytes.length;
        gzip += gzipSync(bytes).length;
        files++;
      }
    }
  };
  walk(dir);
  return { raw, gzip, files };
}

/** Problems with a measured bundle against the limits; empty when it fits. */
export function sizeProblems(size: { raw: number; gzip: number }, gzipLimit = GZIP_BUDGET): string[] {
  const mib = (n: number) => `${(n / MIB).toFixed(2)} MiB`;
  const problems: string[] = [];
  if (size.gzip > gzipLimit)
    problems.push(`gzip size ${kib(size.gzip)} exceeds the budget of ${kib(gzipLimit)}`);
  if (size.raw > UNCOMPRESSED_LIMIT)
    problems.push(`size ${mib(size.raw)} exceeds ${mib(UNCOMPRESSED_LIMIT)}`);
  return problems;
}

/** wrangler's complaints about its config: "Processing wrangler.toml configuration" warnings. */
export function configWarnings(output: string): string[] {
  return output
    .split(/\n(?=▲|✘|X \[)/)
    .filter((block) => /\[(WARNING|ERROR)\][^\n]*(configuration|wrangler\.toml)/i.test(block))
    .map((block) => block.trim());
}

/**
 * Modules loaded by dynamic import only (lazily: the admin app, `lazyDatabase`, tracing), by input path.
 * Their top-level code costs ~10 ms before an isolate's first answer when it runs at start.
 */
export const LAZY = [
  /node_modules\/drizzle-orm\//,
  /node_modules\/@neondatabase\//,
  /node_modules\/@opentelemetry\//,
  /^src\/admin\//,
];

/** esbuild's metafile, the part read here: each input's imports. */
interface Metafile {
  inputs: Record<string, { imports?: { path: string; kind: string }[] }>;
  outputs: Record<string, { entryPoint?: string }>;
}

/**
 * LAZY modules that the entry reaches through static imports, each with the chain that reaches it.
 * @example eagerLazyModules(JSON.parse(readFileSync("meta.json", "utf8")), "src/index.ts")
 */
export function eagerLazyModules(meta: Metafile, entry: string): string[] {
  const parent = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    for (const { path, kind } of meta.inputs[at]?.imports ?? []) {
      if (kind !== "import-statement" || parent.has(path)) continue;
      parent.set(path, at);
      queue.push(path);
    }
  }
  const chains: string[] = [];
  for (const module of parent.keys()) {
    if (!LAZY.some((pattern) => pattern.test(module))) continue;
    const chain = [module];
    for (let up = parent.get(module); up; up = parent.get(up)) chain.unshift(up);
    chains.push(chain.join(" -> "));
  }
  return chains;
}

const kib = (n: number) => `${(n / KIB).toFixed(1)} KiB`;

function main(): void {
  const outdir = mkdtempSync(join(tmpdir(), "sluice-check-bundle-"));
  try {
    const result = spawnSync(
      join(ROOT, "node_modules", ".bin", "wrangler"),
      [
        "deploy",
        "--dry-run",
        "--outdir",
        outdir,
        "--metafile",
        `${outdir}.meta.json`,
        ...(process.env.SLUICE_WRANGLER_CONFIG ? ["--config", process.env.SLUICE_WRANGLER_CONFIG] : []),
      ],
      {
        cwd: ROOT,
        encoding: "utf8",
        env: {
          ...process.env,
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          WRANGLER_SEND_METRICS: "false",
          NO_COLOR: "1",
        },
      },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0)
      throw new Error(`wrangler deploy --dry-run failed (exit ${result.status}):\n${output.trim()}`);
    const warnings = configWarnings(output);
    if (warnings.length > 0) throw new Error(`wrangler's config has problems:\n${warnings.join("\n")}`);
    const size = measureBundle(outdir);
    const limit = Number(process.env.SLUICE_BUNDLE_GZIP_LIMIT ?? GZIP_BUDGET);
    const problems = sizeProblems(size, limit);
    const line = `bundle: ${size.files} modules, ${kib(size.raw)}, ${kib(size.gzip)} gzipped (budget ${kib(limit)})`;
    if (problems.length > 0) throw new Error(`${line}\n${problems.join("\n")}`);
    const meta = JSON.parse(readFileSync(`${outdir}.meta.json`, "utf8")) as Metafile;
    const eager = Object.values(meta.outputs).flatMap(({ entryPoint }) =>
      entryPoint ? eagerLazyModules(meta, entryPoint) : [],
    );
    if (eager.length > 0)
      throw new Error(
        `${line}\nloaded while the isolate starts, meant to load on first use (a static import reaches them):\n${eager.slice(0, 5).join("\n")}`,
      );
    console.log(
      `${line}: ok; drizzle, the Neon driver, OpenTelemetry and the admin API load on first use; wrangler's config is valid.`,
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(`${outdir}.meta.json`, { force: true });
  }
}

if (process.argv[1]?.endsWith("check-bundle.ts")) {
  try {
    main();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
