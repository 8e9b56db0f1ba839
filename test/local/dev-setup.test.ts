import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDevSetup } from "../../local/dev-setup";

const root = mkdtempSync(join(tmpdir(), "sluice-dev-setup-"));
const MOCK = "http://127.0.0.1:9";
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setup(env: NodeJS.ProcessEnv, config?: unknown, devVars?: string) {
  const dir = mkdtempSync(join(root, "case-"));
  if (config !== undefined) writeFileSync(join(dir, "sluice.config.json"), JSON.stringify(config));
  if (devVars !== undefined) writeFileSync(join(dir, ".dev.vars"), devVars);
  return loadDevSetup({ root: dir, mockUrl: MOCK, env });
}

const routeOf = (configJson: string, model: string) =>
  (JSON.parse(configJson) as { routes: Record<string, { targets: { provider: string }[] }> }).routes[
    model
  ]?.targets.map((t) => t.provider);

describe("npm run dev's own setup", () => {
  it("serves the mock setup by default, with no provider key", () => {
    const result = setup({});
    expect(result.source).toBe("mock");
    expect(result.secrets).toEqual({});
    expect(routeOf(result.configJson, "gpt-4o-mini")).toEqual(["mock-openai"]);
  });

  it("routes a vendor's dev models to it for real when its key is in the environment or .dev.vars", () => {
    const fromEnv = setup({ OPENAI_API_KEY: "sk-env" });
    expect(fromEnv.source).toBe("mock+keys");
    expect(fromEnv.secrets).toEqual({ OPENAI_API_KEY: "sk-env" });
    expect(routeOf(fromEnv.configJson, "gpt-4o-mini")).toEqual(["openai"]);
    expect(routeOf(fromEnv.configJson, "claude-sonnet-4-5")).toEqual(["mock-anthropic"]);

    const fromFile = setup({}, undefined, "ANTHROPIC_API_KEY='sk-ant-file'\n# a comment\n");
    expect(fromFile.secrets).toEqual({ ANTHROPIC_API_KEY: "sk-ant-file" });
    expect(routeOf(fromFile.configJson, "claude-sonnet-4-5")).toEqual(["anthropic"]);
    // The environment wins over the file.
    expect(setup({ ANTHROPIC_API_KEY: "sk-ant-env" }, undefined, "ANTHROPIC_API_KEY=x").secrets).toEqual({
      ANTHROPIC_API_KEY: "sk-ant-env",
    });
  });

  it("reads sluice.config.json over the mock setup, and passes only the secrets it names", () => {
    const result = setup(
      { RELAY_KEY: "sk-relay", UNRELATED_SECRET: "nope" },
      {
        providers: {
          relay: { kind: "openai", base_url: "https://relay.example/v1", api_key_secret: "RELAY_KEY" },
        },
        routes: {
          m: {
            targets: [
              { provider: "relay", model: "gpt-4o-mini" },
              { provider: "mock-openai", model: "gpt-4o-mini" },
            ],
          },
        },
      },
    );
    expect(result.source).toMatch(/sluice\.config\.json$/);
    expect(result.secrets).toEqual({ RELAY_KEY: "sk-relay" });
    expect(result.routes).toEqual({ m: ["relay", "mock-openai"] });
  });

  it("fails at start with production's message for a bad field, and names a missing key", () => {
    expect(() => setup({}, { routes: { m: { targets: [{ provider: "opneai", model: "x" }] } } })).toThrow(
      /invalid SLUICE_CONFIG:\n {2}- routes\.m\.targets\.0\.provider: unknown provider "opneai"/,
    );
    expect(() => setup({}, { providers: { openai: { preset: "openai" } } })).toThrow(
      /provider "openai" needs OPENAI_API_KEY/,
    );
    expect(() => setup({}, [1, 2])).toThrow(/must hold a JSON object/);
    expect(() =>
      loadDevSetup({ root, mockUrl: MOCK, env: { SLUICE_CONFIG_FILE: "/nonexistent.json" } }),
    ).toThrow(/no file at/);
  });
});
