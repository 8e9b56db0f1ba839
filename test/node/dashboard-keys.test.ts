import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium, NO_CHROMIUM, screenshotPath, skipNote } from "./browser";

// The dashboard that manages (issue 17): an operator creates a key (shown once, copied), sees it
// listed with its usage, rotates it, revokes it, and the key is refused with 401. Screenshots are
// kept in artifacts/.

const gatewayUrl = inject("gatewayUrl");
const bindings = inject("workerBindings");

async function chat(key: string): Promise<Response> {
  return fetch(`${gatewayUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi from the dashboard test" }],
    }),
  });
}

describe.skipIf(NO_CHROMIUM !== undefined)(
  `managing keys in the dashboard, in headless Chromium${skipNote}`,
  () => {
    const tenant = `ops-${crypto.randomUUID().slice(0, 8)}`;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1500, height: 1400 } });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gatewayUrl });
      page = await context.newPage();
      page.on("pageerror", (error) => problems.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(message.text());
      });
      page.on("dialog", (dialog) => void dialog.accept());
      await page.goto(`${gatewayUrl}/admin/dashboard`);
      await page.fill("#token", bindings.ADMIN_TOKEN as string);
      await page.click('#login button[type="submit"]');
      await page.waitForSelector('body[data-state="ready"]', { timeout: 20_000 });
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
    });

    const rowOf = (name: string) => page.locator("#keys-body tr", { hasText: name });

    it("creates a key, shows its token once with a copy button, lists it with its usage; revoking it gets 401", async () => {
      await page.fill("#new-tenant", tenant);
      await page.fill("#new-name", "browser key");
      await page.fill("#new-rpm", "50");
      await page.fill("#new-budget", "2");
      await page.click('#key-create button[type="submit"]');
      await page.waitForSelector("#key-secret:not([hidden])");
      const token = await page.inputValue("#key-token");
      expect(token).toMatch(/^sk-sluice-/);
      await page.click("#key-copy");
      await page.waitForSelector('#key-copy:has-text("Copied")');
      expect(
        await page.evaluate(() =>
          (
            globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
          ).navigator.clipboard.readText(),
        ),
      ).toBe(token);

      // Listed, found by search, with names rather than ids.
      await page.fill("#key-search", tenant);
      await expect.poll(() => page.locator("#keys-body tr").count()).toBe(1);
      const row = rowOf("browser key");
      await expect.poll(() => row.getAttribute("data-status")).toBe("active");
      expect(await row.locator("td").nth(1).textContent()).toBe(tenant);

      // The key works; its use shows up in the table (requests, spend, budget left) and the request log.
      // The usage row is written after the answer (waitUntil), and the list reads the range's usage
      // and today's in two parallel queries: reload until both have read it.
      expect((await chat(token)).status).toBe(200);
      const budgetLeft = async () => Number((await row.locator("td").nth(8).textContent())?.replace("$", ""));
      await expect
        .poll(
          async () => {
            await page.evaluate(() =>
              (globalThis as unknown as { sluiceKeys: { reload(): Promise<unknown> } }).sluiceKeys.reload(),
            );
            return [await row.locator("td").nth(5).textContent(), (await budgetLeft()) < 2];
          },
          { timeout: 10_000 },
        )
        .toEqual(["1", true]);
      expect(await budgetLeft()).toBeGreaterThan(1.9);
      const keyId = (await row.getAttribute("data-key-id")) as string;
      await page.selectOption("#filter-key", keyId);
      await page.click('#requests-filter button[type="submit"]');
      await expect.poll(() => page.locator("#requests-body tr").count()).toBe(1);
      expect(await page.locator("#requests-body tr td").nth(1).textContent()).toBe(`browser key · ${tenant}`);

      // Every chart labels keys by name (or a short id for a key the list does not hold).
      const labels = await page.evaluate(() => {
        type ChartLike = { data: { labels: unknown[] } };
        const charts = (globalThis as unknown as { sluiceDashboard: { charts: Record<string, ChartLike> } })
          .sluiceDashboard.charts;
        return (charts["top-keys"]?.data.labels ?? []).map(String);
      });
      for (const label of labels) expect(label).not.toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      await page.screenshot({ path: screenshotPath("dashboard-keys"), fullPage: true });

      // Done hides the token for good.
      await page.click("#key-secret-done");
      expect(await page.locator("#key-secret").isHidden()).toBe(true);
      expect(await page.inputValue("#key-token")).toBe("");

      // Revoke: the row says so, and the key is refused.
      await row.locator('button[data-action="revoke"]').click();
      await expect.poll(() => row.getAttribute("data-status")).toBe("revoked");
      const refused = await chat(token);
      expect(refused.status).toBe(401);
      await page.screenshot({ path: screenshotPath("dashboard-keys-revoked"), fullPage: true });
      expect(problems).toEqual([]);
    });

    it("rotates a key: the successor's token is shown once and both are listed", async () => {
      await page.fill("#new-tenant", tenant);
      await page.fill("#new-name", "rotating key");
      await page.click('#key-create button[type="submit"]');
      await page.waitForSelector("#key-secret:not([hidden])");
      const first = await page.inputValue("#key-token");
      await page.click("#key-secret-done");
      await page.fill("#key-search", "rotating key");
      await expect.poll(() => page.locator("#keys-body tr").count()).toBe(1);
      await rowOf("rotating key").locator('button[data-action="rotate"]').click();
      await page.waitForSelector("#key-secret:not([hidden])");
      const successor = await page.inputValue("#key-token");
      expect(successor).toMatch(/^sk-sluice-/);
      expect(successor).not.toBe(first);
      await expect.poll(() => page.locator("#keys-body tr").count()).toBe(2);
      expect(await page.locator('#keys-body tr[data-status="rotating"]').count()).toBe(1);
      // Within the grace period both work.
      expect((await chat(first)).status).toBe(200);
      expect((await chat(successor)).status).toBe(200);
      expect(problems).toEqual([]);
    });

    it("a bad create is explained on the page, not thrown", async () => {
      await page.fill("#new-tenant", tenant);
      await page.fill("#new-plan", "no-such-plan");
      await page.click('#key-create button[type="submit"]');
      await page.waitForSelector('#key-message[data-kind="error"]');
      expect(await page.textContent("#key-message")).toMatch(/Unknown plan/);
    });
  },
);
