import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { dashboardRoutes } from "../../src/admin/dashboard";

describe("dashboard routes", () => {
  const admin = new Hono().route("/admin/dashboard", dashboardRoutes());

  it("serves the page with a nonce-locked CSP and URLs relative to where it is mounted", async () => {
    const res = await admin.request("http://sluice.test/admin/dashboard");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toMatch(/<script src="\/admin\/dashboard\/chart\.js\?v=[\d.]+"><\/script>/);
    expect(html).toContain('"usageUrl":"/admin/usage"');
    // The token lives in sessionStorage and goes in a header, never in a URL.
    expect(html).toContain("sessionStorage");
    expect(html).not.toMatch(/[?&]token=/);
    // Every chart the issue lists has its canvas.
    for (const id of [
      "cost-by-day",
      "top-keys",
      "top-tenants",
      "errors-by-provider",
      "latency",
      "latency-by-provider",
    ]) {
      expect(html).toContain(`<canvas id="${id}">`);
    }
  });

  it("serves Chart.js's UMD build from the worker's static assets (the ASSETS binding)", async () => {
    const res = await admin.request("http://sluice.test/admin/dashboard/chart.js", {}, env);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(res.headers.get("cache-control")).toContain("immutable");
    const source = await res.text();
    expect(source.length).toBeGreaterThan(100_000);
    expect(source).toContain("Chart.js v4");
  });

  it("answers a deploy without the assets binding with a 500 naming the missing config", async () => {
    const res = await admin.request("http://sluice.test/admin/dashboard/chart.js", {}, {});
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("dashboard_asset_missing");
    expect(body.error.message).toContain("[assets]");
  });
});
