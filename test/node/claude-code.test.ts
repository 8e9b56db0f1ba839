import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "./cli";
import { freshTenantKey } from "./client-support";

// Claude Code, unchanged, completing a print-mode task through the served gateway on an Anthropic
// target (claude-sonnet-4-5 in the dev config): its requests reach the provider natively, with
// their cache_control breakpoints and anthropic-beta header, and its answer comes back whole.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLAUDE = join(ROOT, "node_modules/@anthropic-ai/claude-code/bin/claude.exe");
const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings") as Record<string, string>;
let home: string;
let apiKey: string;

beforeAll(async () => {
  apiKey = (await freshTenantKey("claude-code")).token;
  home = mkdtempSync(join(tmpdir(), "claude-home-"));
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Recorded {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

describe("Claude Code", () => {
  it("completes a print-mode task natively, its cache_control blocks and beta header intact", async () => {
    const marker = `say hello ${crypto.randomUUID().slice(0, 8)}`;
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: gatewayUrl,
      ANTHROPIC_API_KEY: apiKey,
      ANTHROPIC_MODEL: "claude-sonnet-4-5",
      ANTHROPIC_DEFAULT_HAIKU_MODEL: "claude-sonnet-4-5",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
    };
    // No built-in tools: the mock calls any tool offered, so with tools it would loop to max-turns.
    const args = ["-p", marker, "--output-format", "json", "--max-turns", "2", "--tools", ""];
    const result = await runCli(CLAUDE, args, env, home, 90_000);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const answer = JSON.parse(result.stdout) as { result: string; is_error: boolean; total_cost_usd: number };
    expect(answer.is_error).toBe(false);
    expect(answer.result).toContain("Mock reply to:");

    const recorded = (await (
      await fetch(`${bindings.MOCK_PROVIDER_URL}/__mock/requests`)
    ).json()) as Recorded[];
    const sent = recorded.filter((r) => r.path === "/v1/messages" && JSON.stringify(r.body).includes(marker));
    expect(sent.length).toBeGreaterThan(0);
    const main = sent.at(-1) as Recorded;
    expect(JSON.stringify(main.body)).toContain('"cache_control":{"type":"ephemeral"');
    expect(main.headers["anthropic-beta"]).toBeTruthy();
    expect(main.headers["x-api-key"]).not.toBe(apiKey);
  }, 120_000);
});
