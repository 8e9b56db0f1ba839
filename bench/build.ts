/** Builds worker bundles the way a deploy would (`wrangler deploy --dry-run --outdir`), see local/bundle.ts. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Bundle, buildWorker, readCompatibility } from "../local/bundle";

export type { Bundle, ModuleType } from "../local/bundle";

/**
 * Builds the gateway from the repo's own wrangler.toml into `outdir`.
 * @example const gateway = await buildGateway(root, "/tmp/x/gateway");
 */
export function buildGateway(root: string, outdir: string): Promise<Bundle> {
  return buildWorker({ root }, outdir);
}

/**
 * Builds bench/passthrough.ts with the same wrangler, compatibility date and flags as the gateway,
 * through a throwaway wrangler.toml next to the output (so the repo's config is not touched).
 */
export function buildPassthrough(root: string, outdir: string): Promise<Bundle> {
  const { date, flags } = readCompatibility(join(root, "wrangler.toml"));
  const configPath = `${outdir}.wrangler.toml`;
  writeFileSync(
    configPath,
    [
      `name = "sluice-bench-passthrough"`,
      `main = ${JSON.stringify(join(root, "bench", "passthrough.ts"))}`,
      `compatibility_date = ${JSON.stringify(date)}`,
      `compatibility_flags = ${JSON.stringify(flags)}`,
      // As the gateway's wrangler.toml: no __name() wrappers.
      "keep_names = false",
      "",
    ].join("\n"),
  );
  return buildWorker({ root, configPath, entry: "passthrough.js", name: "passthrough" }, outdir);
}
