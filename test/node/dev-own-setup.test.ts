import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockProvider, startMockProvider } from "../../local/mock-provider";
import { freePort, waitFor } from "../../local/net";

// `npm run dev` as a newcomer runs it, on a machine without redis-server: a PATH holding only
// `node` (so redis-server is hidden and the embedded Redis serves), a config file of their own that
// routes gpt-4o-mini to a second OpenAI-compatible server (a stand-in for a real provider), and
// that provider's key in the environment.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PROVIDER_KEY = "sk-second-provider-0123456789";

describe.runIf(process.platform === "linux")(
  "npm run dev with redis-server hidden and your own config",
  () => {
    let dev: ChildProcess;
    let second: MockProvider;
    let output = "";
    let base = "";
    let demoKey = "";
    let adminToken = "";
    const scratch = mkdtempSync(join(tmpdir(), "sluice-dev-own-"));

    beforeAll(async () => {
      second = await startMockProvider();
      const bin = join(scratch, "bin");
      const configFile = join(scratch, "sluice.config.json");
      writeFileSync(
        configFile,
        JSON.stringify({
          providers: {
            second: { kind: "openai", base_url: `${second.url}/v1`, api_key_secret: "SECOND_API_KEY" },
          },
          routes: {
            "gpt-4o-mini": { targets: [{ provider: "second", model: "gpt-4o-mini" }] },
            "gpt-4.1": { targets: [{ provider: "mock-openai", model: "gpt-4.1" }] },
          },
          plans: { free: { rpm: 1000, tpm: 10_000_000, concurrency: 16, budget_usd_day: 100 } },
        }),
      );
      // Only node on the PATH: no redis-server, no postgres.
      mkdirSync(bin);
      symlinkSync(process.execPath, join(bin, "node"));
      const port = await freePort();
      dev = spawn(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "local/dev.ts"], {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          PATH: bin,
          HOME: process.env.HOME ?? scratch,
          PORT: String(port),
          SLUICE_CONFIG_FILE: configFile,
          SLUICE_DEV_VARS: join(scratch, "absent.dev.vars"),
          SECOND_API_KEY: PROVIDER_KEY,
          CLOUDFLARE_CF_FETCH_ENABLED: "false",
          WRANGLER_SEND_METRICS: "false",
        },
      });
      dev.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      dev.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      await waitFor(
        "npm run dev's banner",
        async () => /Ctrl-C stops everything/.test(output) || dev.exitCode !== null,
        90_000,
      );
      expect(dev.exitCode, output).toBeNull();
      base = /OPENAI_BASE_URL=(\S+)\/v1/.exec(output)?.[1] ?? "";
      demoKey = /OPENAI_API_KEY=(\S+)/.exec(output)?.[1] ?? "";
      adminToken = /SLUICE_ADMIN_TOKEN=(\S+)/.exec(output)?.[1] ?? "";
    }, 120_000);

    afterAll(async () => {
      if (dev?.pid && dev.exitCode === null) {
        const exited = new Promise((resolve) => dev.once("exit", resolve));
        process.kill(-dev.pid, "SIGTERM");
        await exited;
      }
      await second?.close();
      rmSync(scratch, { recursive: true, force: true });
    });

    const chat = (key: string, model = "gpt-4o-mini") =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "Hello!" }] }),
      });

    const mintKey = async (limits: Record<string, number>) => {
      const res = await fetch(`${base}/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ tenant: `own-${crypto.randomUUID().slice(0, 8)}`, limits }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { key: string }).key;
    };

    it("says it runs the embedded Redis and the config file, never printing the provider key", () => {
      expect(output).toMatch(/Redis embedded \(redis-server is not on the PATH\)/);
      expect(output).toContain("sluice.config.json");
      expect(output).toContain("SECOND_API_KEY");
      expect(output).not.toContain(PROVIDER_KEY);
    });

    it("the printed curl's request proxies gpt-4o-mini to the configured provider with the key from the environment", async () => {
      const res = await chat(demoKey);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get("x-sluice-provider")).toBe("second");
      expect(((await res.json()) as { object: string }).object).toBe("chat.completion");
      const seen = (await (await fetch(`${second.url}/__mock/requests`)).json()) as {
        headers: Record<string, string>;
      }[];
      expect(seen.at(-1)?.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
      // A model the file routes to the mock still works.
      expect((await chat(demoKey, "gpt-4.1")).status).toBe(200);
    });

    it("a key with rpm 3 gets 3 answers, then 429 rate_limit_exceeded (the embedded Redis's Lua)", async () => {
      const key = await mintKey({ rpm: 3 });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await chat(key)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    });

    it("a key past its daily budget is refused with insufficient_quota", async () => {
      const key = await mintKey({ budget_usd_day: 0.000001 });
      const res = await chat(key);
      expect(res.status).toBe(429);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("insufficient_quota");
    });
  },
);
