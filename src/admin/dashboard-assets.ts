/**
 * The dashboard's static files: Workers static assets (wrangler.toml `[assets]`, the folder
 * src/admin/static), read through the ASSETS binding rather than bundled into the script. Locally
 * the binding is a workerd disk service of the same folder.
 */

/** Bumps the script URL whenever Chart.js changes, so browsers may cache it forever. */
export const CHART_JS_VERSION = "4.5.1";

/** Chart.js 4's UMD build (defines `window.Chart`), as named in the assets folder. */
const CHART_JS_PATH = "/chart.umd.min.js";

/** What the ASSETS binding offers: a fetch of a file by path. */
interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/** The binding named by wrangler.toml (a name of ours, never the caller's), when the worker has it. */
function assetsBinding(env: unknown): AssetsBinding | null {
  if (typeof env !== "object" || env === null) return null;
  const assets = (env as { ASSETS?: Partial<AssetsBinding> | null }).ASSETS;
  return typeof assets?.fetch === "function" ? (assets as AssetsBinding) : null;
}

/**
 * Chart.js's source as a stream, or null when the worker has no ASSETS binding or it lacks the file
 * (a deploy without wrangler.toml's `[assets]`).
 * @example const body = await chartJsAsset(c.env, c.req.url)
 */
export async function chartJsAsset(env: unknown, requestUrl: string): Promise<ReadableStream | null> {
  const assets = assetsBinding(env);
  if (assets === null) return null;
  const res = await assets.fetch(new Request(new URL(CHART_JS_PATH, requestUrl)));
  if (res.ok && res.body) return res.body;
  await res.body?.cancel();
  return null;
}
