import { Hono } from "hono";
import { toBase64 } from "../encoding";
import { errorResponse, GatewayError } from "../errors";
import { CHART_JS_VERSION, chartJsAsset } from "./dashboard-assets";
import { renderDashboard } from "./dashboard-page";

const MISSING_ASSET =
  'Chart.js is not among the worker\'s static assets: wrangler.toml needs [assets] directory = "./src/admin/static", binding = "ASSETS".';

/**
 * The admin dashboard as a sub-app, mounted at /admin/dashboard BEFORE the admin-token
 * middleware: the page and Chart.js hold no data, and a browser cannot send a bearer header when
 * it navigates. The page asks for the admin token, keeps it in sessionStorage and sends it as
 * `Authorization: Bearer` to the usage API, which stays behind the admin middleware.
 * - `GET /` → the HTML page; `GET /chart.js` → Chart.js's UMD build, from the worker's static
 *   assets (the ASSETS binding), never a CDN.
 * @example admin.route("/dashboard", dashboardRoutes()); admin.use("*", requireAdmin())
 */
export function dashboardRoutes(): Hono {
  const app = new Hono();

  app.get("/", (c) => {
    // Mount-point agnostic: URLs derive from where the page was served.
    const pagePath = new URL(c.req.url).pathname.replace(/\/+$/, "");
    const adminBase = pagePath.replace(/\/dashboard$/, "");
    const nonce = randomNonce();
    const html = renderDashboard({
      nonce,
      chartJsUrl: `${pagePath}/chart.js?v=${CHART_JS_VERSION}`,
      usageUrl: `${adminBase}/usage`,
      liveUrl: `${adminBase}/metrics/live`,
      keysUrl: `${adminBase}/keys`,
      requestsUrl: `${adminBase}/usage/requests`,
    });
    return c.html(html, 200, {
      "content-security-policy": [
        "default-src 'none'",
        `script-src 'self' 'nonce-${nonce}'`,
        `style-src 'nonce-${nonce}'`,
        "connect-src 'self'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
    });
  });

  app.get("/chart.js", async (c) => {
    const source = await chartJsAsset(c.env, c.req.url);
    if (source === null) {
      throw new GatewayError({
        status: 500,
        type: "server_error",
        message: MISSING_ASSET,
        code: "dashboard_asset_missing",
      });
    }
    return c.body(source, 200, {
      "content-type": "text/javascript; charset=utf-8",
      // The URL carries the version, so the file never changes under it.
      "cache-control": "public, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    });
  });

  app.onError((err) => errorResponse(err));

  return app;
}

function randomNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(16)));
}
