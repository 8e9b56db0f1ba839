import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inject } from "vitest";
import { type Bundle, buildWorker } from "../../local/bundle";
import { freePort } from "../../local/net";
import { startWorkerd } from "../../local/workerd";
import { freshTenantKey } from "./client-support";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const bindings = inject("workerBindings");

/** A gateway process (its own workerd, so its own isolate) with the cron socket. */
export interface Gateway {
  url: string;
  /** Runs the scheduled handler once, as the cron trigger would. */
  scheduled(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the worker bundle once for a test file; `serve` starts workerd processes on it. */
export async function buildGateways(): Promise<{
  serve(config: Record<string, unknown>, extra?: Record<string, string>): Promise<Gateway>;
  cleanup(): void;
}> {
  const scratch = mkdtempSync(join(tmpdir(), "sluice-observability-"));
  const bundle: Bundle = await buildWorker({ root: ROOT }, join(scratch, "build"));
  return {
    async serve(config, extra = {}) {
      const port = await freePort();
      const cronPort = await freePort();
      const devConfig = JSON.parse(bindings.SLUICE_CONFIG as string) as Record<string, unknown>;
      const worker = await startWorkerd({
        root: ROOT,
        bundle,
        port,
        cronPort,
        output: "ignore",
        bindings: { ...bindings, ...extra, SLUICE_CONFIG: JSON.stringify({ ...devConfig, ...config }) },
      });
      return {
        url: worker.url,
        async scheduled() {
          const res = await fetch(`http://127.0.0.1:${cronPort}/`);
          if (!res.ok) throw new Error(`scheduled: ${res.status} ${await res.text()}`);
        },
        stop: () => worker.stop(),
      };
    },
    cleanup: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

/** A key of a fresh tenant (plan and limits as given). */
export function freshKey(
  claims: { plan?: string; limits?: Record<string, number> } = {},
): Promise<{ token: string; tenant: string; keyId: string }> {
  return freshTenantKey("obs", { name: "observability", ...claims });
}

/** A chat completion through `url`, with `headers` on top. */
export function chat(
  url: string,
  token: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }], ...body }),
  });
}

/** Polls `check` until it returns a value other than undefined. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
