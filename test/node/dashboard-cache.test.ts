import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../src/db/client";
import { toUsageRow } from "../../src/metering";
import { insertUsageRows } from "../../src/metering/insert";
import { launchChromium, NO_CHROMIUM, screenshotPath, skipNote } from "./browser";

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings");

/** Six hits and two misses of one route by one tenant, each answer $0.50: $3 saved, 75 %. */
function cacheRows(tenant: string, route: string) {
  return Array.from({ length: 8 }, (_, i) =>
    toUsageRow(
      {
        requestId: `${tenant}-${i}`,
        clientRequestId: null,
        tenant,
        keyId: `${tenant}-key`,
        endpoint: "chat",
        requestedModel: route,
        provider: "openai",
        upstreamModel: "gpt-4o-mini",
        stream: false,
        status: 200,
        errorCode: null,
        usage: {
          promptTokens: 100,
          completionTokens: 20,
          cachedReadTokens: 0,
          cacheWriteTokens: 0,
          reasoningTokens: 0,
        },
        usageSource: "provider",
        latencyMs: i < 6 ? 2 : 300,
        ttfbMs: 0,
        attempts: i < 6 ? 0 : 1,
        tags: null,
        cacheHit: i < 6,
        // Within the page's default range (the last 7 days, today included).
        createdAt: new Date(Date.now() - 60_000 - i * 1000),
      },
      { picoUsd: 500_000_000_000n },
    ),
  );
}

/** Opens the dashboard and signs in with the admin token; resolves once it has drawn. */
async function signIn(page: Page): Promise<void> {
  await page.goto(`${gatewayUrl}/admin/dashboard`);
  await page.fill("#token", bindings.ADMIN_TOKEN as string);
  await page.click('#login button[type="submit"]');
  await page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
}

// The global setup serves the gateway over HTTP (the built bundle on workerd) and provides `gatewayUrl`.
describe.skipIf(NO_CHROMIUM !== undefined)(`dashboard: response cache section${skipNote}`, () => {
  const tenant = `dash-cache-${crypto.randomUUID().slice(0, 8)}`;
  const route = `cached-route-${crypto.randomUUID().slice(0, 8)}`;
  let browser: Browser;

  beforeAll(async () => {
    const db = createDatabase(bindings.DATABASE_URL as string, bindings.NEON_FETCH_ENDPOINT);
    await insertUsageRows(db, cacheRows(tenant, route));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("shows hit ratio and dollars saved per route and per tenant, and in the totals", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    await signIn(page);

    const cells = (id: string, row: number) =>
      page.locator(`#${id} tr`).nth(row).locator("td").allTextContents();
    const rows = {
      byRoute: [await cells("cache-by-route", 0)],
      byTenant: [await cells("cache-by-tenant", 0)],
      hits: await page.textContent("#total-cache-hits"),
      saved: await page.textContent("#total-cache-saved"),
    };
    // The dearest savings come first: $3.00 tops whatever else the run cached.
    expect(rows.byRoute[0]).toEqual([route, "8", "6", "75.0 %", "$3.00"]);
    expect(rows.byTenant[0]).toEqual([tenant, "8", "6", "75.0 %", "$3.00"]);
    expect(rows.hits).toMatch(/^\d+\.\d % \([\d,]+\)$/);
    expect(Number(rows.saved?.replace(/[$,]/g, ""))).toBeGreaterThanOrEqual(3);

    // The request log marks each hit.
    await page.fill("#filter-tenant", tenant);
    await page.click('#requests-filter button[type="submit"]');
    await expect.poll(() => page.locator("#requests-body tr").count(), { timeout: 10_000 }).toBe(8);
    const statuses = await page.locator("#requests-body tr td:nth-child(6)").allTextContents();
    expect(statuses.filter((s) => s === "200 · cache hit")).toHaveLength(6);
    expect(problems).toEqual([]);
    await page.screenshot({ path: screenshotPath("dashboard-cache"), fullPage: true });
    await page.close();
  });

  it("creates a key whose cache ceiling is set on the form (0: the cache off for it)", async () => {
    const page = await browser.newPage();
    const keyTenant = `dash-cache-key-${crypto.randomUUID().slice(0, 8)}`;
    await signIn(page);
    await page.fill("#new-tenant", keyTenant);
    await page.fill("#new-cache-ttl", "0");
    await page.click('#key-create button[type="submit"]');
    await page.waitForSelector("#key-secret:not([hidden])");
    await page.close();

    const listed = await fetch(`${gatewayUrl}/admin/keys?tenant=${keyTenant}`, {
      headers: { authorization: `Bearer ${bindings.ADMIN_TOKEN}` },
    });
    const keys = ((await listed.json()) as { data: { limits: Record<string, number> }[] }).data;
    expect(keys.map((key) => key.limits)).toEqual([{ cache_max_ttl_seconds: 0 }]);
  });
});
