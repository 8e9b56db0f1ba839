import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readCompatibility } from "../../local/bundle";
import { freePort, waitFor } from "../../local/net";
import { devRuntime, type ServedWorker, serveWorker } from "../../local/worker";
import { freshTenantKey } from "./client-support";

// `npm run dev` under hostile input (issue 10): the worker served the way dev serves it, against the
// shared local stack, takes the requests that took `wrangler dev` down (19,510 sockets left in
// CLOSE-WAIT by its per-chunk DevTools reports) and still answers, without leaking a binding value.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const bindings = inject("workerBindings");

/** Binding values that must never show up in what the dev server prints or writes to disk. */
const SECRETS = {
  DATABASE_URL: bindings.DATABASE_URL as string,
  ADMIN_TOKEN: bindings.ADMIN_TOKEN as string,
  UPSTASH_REDIS_REST_TOKEN: bindings.UPSTASH_REDIS_REST_TOKEN as string,
  MOCK_API_KEY: bindings.MOCK_API_KEY as string,
  "SLUICE_SIGNING_KEY (private part)": (JSON.parse(bindings.SLUICE_SIGNING_KEY as string) as { d: string }).d,
};

/** Open file descriptors of `pid` and all its descendants (Linux /proc). */
function openFileDescriptors(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Exited meanwhile.
    }
  }
  let count = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop() as number;
    try {
      count += readdirSync(`/proc/${next}/fd`).length;
    } catch {
      // Exited meanwhile.
    }
    queue.push(...(children.get(next) ?? []));
  }
  return count;
}

/** A function tool whose JSON schema has `count` string properties; the mock fills every one. */
function wideTool(count: number) {
  const properties: Record<string, { type: string }> = {};
  for (let i = 0; i < count; i++) properties[`field_${i}`] = { type: "string" };
  return { type: "function", function: { name: "fill_form", parameters: { type: "object", properties } } };
}

async function chat(url: string, key: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }], ...body }),
  });
}

describe.runIf(process.platform === "linux")("npm run dev's server under hostile input", () => {
  let worker: ServedWorker;
  let output = "";
  // A tenant of its own on a roomy plan: the flood must reach the upstream (the demo key's free plan
  // would refuse it on tokens per minute) and must not eat the limits other tests share.
  let key: string;

  beforeAll(async () => {
    key = (await freshTenantKey("dev-flood")).token;
    worker = await serveWorker({
      vars: bindings,
      port: await freePort(),
      cron: true,
      output: (text) => {
        output += text;
      },
    });
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
  });

  it("serves the built bundle on workerd, with no binding value in its config file or command line", () => {
    const cmdline = readFileSync(`/proc/${worker.pid()}/cmdline`, "utf8").split("\0");
    expect(cmdline[0]).toMatch(/workerd$/);
    expect(cmdline[1]).toBe("serve");
    const config = readFileSync(cmdline[2] as string, "utf8");
    expect(config).toContain('"--max-old-space-size=128"');
    expect(config).toContain('"--max-semi-space-size=1"');
    expect(config).toContain('fromEnvironment = "DATABASE_URL"');
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(config.includes(value), `${name} in the workerd config`).toBe(false);
      expect(cmdline.join(" ").includes(value), `${name} on workerd's command line`).toBe(false);
    }
    // No DevTools: nothing listens for an inspector.
    expect(cmdline.some((arg) => arg.startsWith("--inspector"))).toBe(false);
  });

  it("still answers after streams of thousands of chunks and 30,000-property tool schemas, with bounded fds", async () => {
    const fdsBefore = openFileDescriptors(worker.pid());
    for (let round = 0; round < 3; round++) {
      // Tool-call arguments stream in 6-character fragments: ~13,000 chunks per answer.
      const streamed = await chat(worker.url, key, {
        stream: true,
        tools: [wideTool(3_000)],
        tool_choice: { type: "function", function: { name: "fill_form" } },
      });
      expect(streamed.status).toBe(200);
      const events = (await streamed.text()).split("\n\n").filter((e) => e.startsWith("data: "));
      expect(events.length).toBeGreaterThan(10_000);
      expect(events.at(-1)).toBe("data: [DONE]");

      // A ~1 MB request whose ~1 MB answer fills 30,000 properties.
      const wide = await chat(worker.url, key, { tools: [wideTool(30_000)], tool_choice: "required" });
      expect(wide.status).toBe(200);
      const { choices } = (await wide.json()) as { choices: { message: { tool_calls: unknown[] } }[] };
      expect(choices[0]?.message.tool_calls).toHaveLength(1);
    }

    const health = await fetch(`${worker.url}/healthz`);
    expect(health.status).toBe(200);
    const normal = await chat(worker.url, key, {});
    expect(normal.status).toBe(200);
    expect(((await normal.json()) as { object: string }).object).toBe("chat.completion");
    // wrangler dev left one socket per relayed chunk; a healthy server returns to its baseline.
    expect(openFileDescriptors(worker.pid())).toBeLessThan(Math.max(1_000, fdsBefore + 200));
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(output.includes(value), `${name} in the dev server's output`).toBe(false);
    }
  }, 180_000);

  it("runs the cron trigger's scheduled handler on demand (workerd has no cron of its own)", async () => {
    await expect(worker.scheduled()).resolves.toBeUndefined();
  });
});

describe("live reload of the served worker", () => {
  const answering = (version: string) =>
    `export default { fetch: () => new Response(${JSON.stringify(version)}) };\n`;
  let project: string | undefined;
  let worker: ServedWorker | undefined;

  afterAll(async () => {
    await worker?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("rebuilds on a change, on the same port, and keeps the old build when the new one fails", async () => {
    // A project of its own: edits to the repo's src/ by anyone else must not reload it mid-test.
    project = mkdtempSync(join(tmpdir(), "sluice-reload-"));
    const srcDir = join(project, "src");
    const entry = join(srcDir, "index.ts");
    const { date } = readCompatibility(join(ROOT, "wrangler.toml"));
    mkdirSync(srcDir);
    writeFileSync(entry, answering("v1"));
    const configPath = join(project, "wrangler.toml");
    writeFileSync(
      configPath,
      `name = "reload-test"\nmain = "src/index.ts"\ncompatibility_date = "${date}"\n`,
    );
    const lines: string[] = [];
    worker = await serveWorker({
      vars: {},
      port: await freePort(),
      watch: true,
      quiet: true,
      project: { configPath, srcDir },
      log: (line) => lines.push(line),
    });
    const url = worker.url;
    const body = async () => (await fetch(url)).text();
    expect(await body()).toBe("v1");

    writeFileSync(entry, answering("v2"));
    await waitFor("a reload line", async () => lines.some((l) => l.startsWith("sluice: reloaded")), 30_000);
    expect(await body()).toBe("v2");
    expect(lines.filter((l) => l.startsWith("sluice: reloaded"))).toHaveLength(1);

    writeFileSync(entry, "export default { fetch: () => new Response( };\n");
    await waitFor(
      "a build failure",
      async () => lines.some((l) => l.startsWith("sluice: rebuild failed")),
      30_000,
    );
    expect(lines.find((l) => l.startsWith("sluice: rebuild failed"))).toMatch(/ERROR/);
    expect(await body()).toBe("v2");
  }, 90_000);
});

describe("choosing the dev runtime", () => {
  it("is workerd unless --wrangler or SLUICE_DEV_RUNTIME=wrangler asks for wrangler dev", () => {
    expect(devRuntime([], {})).toBe("workerd");
    expect(devRuntime([], { SLUICE_DEV_RUNTIME: "workerd" })).toBe("workerd");
    expect(devRuntime(["--wrangler"], {})).toBe("wrangler");
    expect(devRuntime([], { SLUICE_DEV_RUNTIME: "wrangler" })).toBe("wrangler");
    expect(() => devRuntime([], { SLUICE_DEV_RUNTIME: "miniflare" })).toThrow(/workerd" or "wrangler/);
  });
});
