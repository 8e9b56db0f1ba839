import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "./cli";
import { freshTenantKey } from "./client-support";

// Codex CLI, unchanged, completing `codex exec "say hello"` through the served gateway with
// `wire_api = "responses"`: its streamed Responses requests go to the OpenAI-native route
// (gpt-4o-mini in the dev config). The mock calls the first tool Codex offers (its shell, with a
// command that does not exist), Codex runs it and sends the output back, and the mock answers.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CODEX = join(ROOT, "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex");
const gatewayUrl = inject("gatewayUrl");
let home: string;
let apiKey: string;

beforeAll(async () => {
  apiKey = (await freshTenantKey("codex")).token;
  home = mkdtempSync(join(tmpdir(), "codex-home-"));
  writeFileSync(
    join(home, "config.toml"),
    [
      'model = "gpt-4o-mini"',
      'model_provider = "sluice"',
      "[model_providers.sluice]",
      'name = "sluice"',
      `base_url = "${gatewayUrl}/v1"`,
      'env_key = "SLUICE_API_KEY"',
      'wire_api = "responses"',
      "",
    ].join("\n"),
  );
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("Codex CLI", () => {
  it('completes `codex exec "say hello"` through the gateway', async () => {
    const env = { PATH: process.env.PATH, HOME: home, CODEX_HOME: home, SLUICE_API_KEY: apiKey };
    const result = await runCli(CODEX, ["exec", "--skip-git-repo-check", "say hello"], env, home, 60_000);
    expect(result.stdout + result.stderr).toContain("Mock reply to:");
    expect(result.code, result.stderr).toBe(0);
  }, 90_000);
});
