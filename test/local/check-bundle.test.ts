import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { eagerLazyModules } from "../../local/check-bundle";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "sluice-check-bundle-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm run check:bundle` with extra environment; its exit code and output. */
function checkBundle(env: Record<string, string>) {
  const result = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "local/check-bundle.ts"],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, ...env },
    },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("npm run check:bundle", () => {
  it("passes the real bundle within its 420 KiB gzip budget and reports its size", () => {
    const { status, output } = checkBundle({});
    expect(status, output).toBe(0);
    expect(output).toMatch(
      /KiB gzipped \(budget 420\.0 KiB\): ok; drizzle, the Neon driver, OpenTelemetry and the admin API load on first use/,
    );
  }, 60_000);

  it("fails a bundle over the gzip budget (SLUICE_BUNDLE_GZIP_LIMIT overrides it)", () => {
    const { status, output } = checkBundle({ SLUICE_BUNDLE_GZIP_LIMIT: "100000" });
    expect(status).toBe(1);
    expect(output).toMatch(/exceeds the budget of 97\.7 KiB/);
  }, 60_000);

  it("fails when wrangler's config is invalid", () => {
    const config = join(scratch, "wrangler.toml");
    const real = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
      .replace(/^main = "(.*)"/m, `main = "${ROOT}$1"`)
      .replace(/^directory = "(.*)"/m, `directory = "${ROOT}$1"`);
    writeFileSync(
      config,
      `${real.replace(/^compatibility_date = .*$/m, 'compatibility_date = "not-a-date"')}\n`,
    );
    const { status, output } = checkBundle({ SLUICE_WRANGLER_CONFIG: config });
    expect(status).toBe(1);
    expect(output).toMatch(/compatibility_date|config/i);
  }, 60_000);
});

describe("modules meant to load on first use", () => {
  const imports = (...paths: [string, string][]) => paths.map(([path, kind]) => ({ path, kind }));
  const meta = (entryImports: [string, string][]) => ({
    outputs: { "index.js": { entryPoint: "src/index.ts" } },
    inputs: {
      "src/index.ts": { imports: imports(...entryImports) },
      "src/app.ts": { imports: imports(["src/admin/app.ts", "dynamic-import"]) },
      "src/metering/writer.ts": {
        imports: imports(["node_modules/drizzle-orm/index.js", "import-statement"]),
      },
    },
  });

  it("accepts them behind a dynamic import", () => {
    expect(eagerLazyModules(meta([["src/app.ts", "import-statement"]]), "src/index.ts")).toEqual([]);
  });

  it("names the chain of static imports that loads one while the isolate starts", () => {
    const eager = eagerLazyModules(
      meta([
        ["src/app.ts", "import-statement"],
        ["src/metering/writer.ts", "import-statement"],
      ]),
      "src/index.ts",
    );
    expect(eager).toEqual(["src/index.ts -> src/metering/writer.ts -> node_modules/drizzle-orm/index.js"]);
  });
});
