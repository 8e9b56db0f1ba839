import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { toUsageRow } from "../../src/metering";
import { insertUsageRows } from "../../src/metering/insert";
import { launchChromium, NO_CHROMIUM, screenshotPath, skipNote } from "./browser";

const CHARTS = [
  "cost-by-day",
  "top-keys",
  "top-tenants",
  "errors-by-provider",
  "latency",
  "latency-by-provider",
];

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings");

// The global setup serves the gateway over HTTP (the built bundle on workerd) and provides `gatewayUrl`.
describe.skipIf(NO_CHROMIUM !== undefined)(`admin dashboard in headless Chromium${skipNote}`, () => {
  const tenant = `dash-${crypto.randomUUID().slice(0, 8)}`;
  const adminToken = bindings.ADMIN_TOKEN as string;
  let browser: Browser;

  beforeAll(async () => {
    // Usage rows over the last days, dear enough to top the charts whatever else the run wrote.
    const db = createDatabase(bindings.DATABASE_URL as string, bindings.NEON_FETCH_ENDPOINT);
    const now = Date.now();
    const models = ["gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-flash"];
    const rows = Array.from({ length: 60 }, (_, i) =>
      toUsageRow(
        {
          requestId: `${tenant}-${i}`,
          clientRequestId: null,
          tenant,
          keyId: `${tenant}-key-${i % 4}`,
          endpoint: "chat",
          requestedModel: models[i % 3] as string,
          provider: ["openai", "anthropic", "google"][i % 3] as string,
          upstreamModel: models[i % 3] as string,
          stream: i % 2 === 0,
          status: i % 7 === 0 ? 502 : 200,
          errorCode: i % 7 === 0 ? "upstream_error" : null,
          usage: {
            promptTokens: 1_000 + i,
            completionTokens: 300,
            cachedReadTokens: 100,
            cacheWriteTokens: 0,
            reasoningTokens: 0,
          },
          usageSource: "provider",
          latencyMs: 200 + ((i * 53) % 1_500),
          ttfbMs: 90,
          attempts: 1,
          tags: null,
          // Within the page's default range (the last 7 days, today included).
          createdAt: new Date(now - (i % 6) * 86_400_000 - 60_000),
        },
        { picoUsd: BigInt(5 + (i % 4)) * 10n ** 12n },
      ),
    );
    await insertUsageRows(db, rows);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("asks for the admin token, then draws every chart from the usage API; the screenshot is kept", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    const problems: string[] = [];
    const requests: { url: string; authorization: string | undefined }[] = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("request", (request) =>
      requests.push({ url: request.url(), authorization: request.headers().authorization }),
    );

    await page.goto(`${gatewayUrl}/admin/dashboard`);
    await page.waitForSelector('body[data-state="need-token"]');
    await page.fill("#token", adminToken);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });

    const charts = await page.evaluate((ids) => {
      type ChartLike = { data: { labels: unknown[]; datasets: { data: (number | null)[] }[] } };
      const all = (globalThis as unknown as { sluiceDashboard: { charts: Record<string, ChartLike> } })
        .sluiceDashboard.charts;
      return ids.map((id) => {
        const chart = all[id];
        const values = (chart?.data.datasets ?? [])
          .flatMap((d) => d.data)
          .filter((v) => typeof v === "number" && v > 0);
        return { id, labels: (chart?.data.labels ?? []).map(String), nonZero: values.length };
      });
    }, CHARTS);
    for (const chart of charts) expect(chart.nonZero, chart.id).toBeGreaterThan(0);
    expect(charts.find((c) => c.id === "top-tenants")?.labels[0]).toBe(tenant);

    await page.screenshot({ path: screenshotPath("dashboard"), fullPage: true });

    // Everything came from the gateway itself (Chart.js included), and the token only ever
    // travelled in the Authorization header of usage API calls.
    expect(requests.every((r) => r.url.startsWith(gatewayUrl as string))).toBe(true);
    expect(
      requests.some((r) => r.url.includes(encodeURIComponent(adminToken)) || r.url.includes(adminToken)),
    ).toBe(false);
    for (const r of requests) {
      // Only the admin API's data routes get the token: never the page or Chart.js.
      const path = new URL(r.url).pathname;
      expect(r.authorization === undefined || /^\/admin\/(usage|keys|metrics)/.test(path), r.url).toBe(true);
    }
    expect(problems).toEqual([]);

    // The token survives a reload within the tab (sessionStorage), so the page draws again.
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
    await page.close();
  });

  it("a wrong token is refused and the page asks again", async () => {
    const page = await browser.newPage();
    await page.goto(`${gatewayUrl}/admin/dashboard`);
    await page.fill("#token", "not-the-admin-token");
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('body[data-state="need-token"] #status:has-text("refused")', {
      timeout: 20_000,
    });
    const stored = await page.evaluate(() => {
      const storage = (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } })
        .sessionStorage;
      return storage.getItem("sluice.adminToken");
    });
    expect(stored).toBeNull();
    await page.close();
  });
});
