import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/net";
import { bindings, buildGateways, chat, eventually, freshKey, type Gateway } from "./observability-support";

const METRICS_TOKEN = `metrics-${crypto.randomUUID()}`;
const ADMIN = { authorization: `Bearer ${bindings.ADMIN_TOKEN}` };

/** Debian's `prometheus`, scraping the gateway every second with the read-only metrics token. */
async function startPrometheus(target: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-prometheus-"));
  writeFileSync(join(dir, "token"), METRICS_TOKEN, { mode: 0o600 });
  writeFileSync(
    join(dir, "prometheus.yml"),
    [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "scrape_configs:",
      "  - job_name: sluice",
      "    metrics_path: /admin/metrics",
      `    authorization: { type: Bearer, credentials_file: ${join(dir, "token")} }`,
      `    static_configs: [{ targets: ["${new URL(target).host}"] }]`,
    ].join("\n"),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually("prometheus ready", async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined));
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An instant PromQL query's single value; undefined while it has none. */
async function query(prometheus: string, promql: string): Promise<number | undefined> {
  const res = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  if (body.status !== "success") throw new Error(JSON.stringify(body));
  const value = body.data.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

/**
 * Why this test cannot run here, or undefined when it can: on a machine with only Node it is skipped
 * with the reason; CI (CI=true) installs Debian's prometheus, so there a missing one is a failure.
 */
const NO_PROMETHEUS: string | undefined =
  spawnSync("prometheus", ["--version"]).error && process.env.CI !== "true"
    ? "no prometheus on the PATH (apt-get install -y prometheus)"
    : undefined;
if (NO_PROMETHEUS) console.warn(`Prometheus test skipped: ${NO_PROMETHEUS}`);

describe.skipIf(NO_PROMETHEUS)(
  `a real Prometheus scrapes /admin/metrics${NO_PROMETHEUS ? ` (skipped: ${NO_PROMETHEUS})` : ""}`,
  () => {
    let gateway: Gateway;
    let prometheus: { url: string; stop(): Promise<void> };
    let cleanup = () => {};

    beforeAll(async () => {
      const gateways = await buildGateways();
      cleanup = gateways.cleanup;
      // The tenant label keeps this test's series apart from every other test's traffic.
      gateway = await gateways.serve({ metrics: { tenant_label: true } }, { METRICS_TOKEN });
      prometheus = await startPrometheus(gateway.url);
    }, 120_000);

    afterAll(async () => {
      await prometheus?.stop();
      await gateway?.stop();
      cleanup();
    });

    it("counts N requests and their cost over the test window, as the usage rows do", async () => {
      const { token, tenant } = await freshKey();
      const requests = `sluice_requests_total{tenant="${tenant}"}`;
      const cost = `sluice_cost_usd_total{tenant="${tenant}"}`;
      await eventually("the target up", async () =>
        (await query(prometheus.url, 'up{job="sluice"}')) === 1 ? true : undefined,
      );

      // One request opens the series; the window starts once Prometheus has scraped it.
      const warmup = await chat(gateway.url, token);
      expect(warmup.status).toBe(200);
      const warmupId = warmup.headers.get("x-request-id");
      await eventually("the first scrape", async () =>
        (await query(prometheus.url, `sum(${requests})`)) === 1 ? true : undefined,
      );
      const t0 = Date.now() / 1000;

      const N = 24;
      for (let i = 0; i < N; i += 6) {
        const batch = await Promise.all(Array.from({ length: 6 }, () => chat(gateway.url, token)));
        for (const res of batch) expect(res.status).toBe(200);
      }

      const counted = await eventually("N in Prometheus", async () => {
        const value = await query(prometheus.url, `sum(${requests}) - sum(${requests} @ ${t0})`);
        return value === N ? value : undefined;
      });
      expect(counted).toBe(N);

      // The usage rows of the window: every row of the tenant but the warm-up's.
      const rows = await eventually("N + 1 usage rows", async () => {
        const res = await fetch(`${gateway.url}/admin/usage/requests?tenant=${tenant}&limit=100`, {
          headers: ADMIN,
        });
        const list = ((await res.json()) as { data: { request_id: string; cost_usd: string | null }[] }).data;
        return list.length === N + 1 ? list : undefined;
      });
      const rowsCost = rows
        .filter((row) => row.request_id !== warmupId)
        .reduce((sum, row) => sum + Number(row.cost_usd ?? 0), 0);
      expect(rowsCost).toBeGreaterThan(0);
      const scraped = await query(prometheus.url, `sum(${cost}) - sum(${cost} @ ${t0})`);
      expect(scraped).toBeCloseTo(rowsCost, 12);
    });
  },
);
