// Chart.js's UMD build as text, served by the worker so the dashboard works offline. Bundled as a
// Text module by the wrangler.toml rule for "**/chart.umd.min.js" (see dashboard-modules.d.ts).
import chartJsSource from "../../node_modules/chart.js/dist/chart.umd.min.js";

/**
 * Chart.js 4 UMD (defines `window.Chart`), or null when the bundler did not load it as text
 * (the wrangler.toml rule is missing: it would then be bundled as code, not served).
 */
export const CHART_JS_SOURCE: string | null = typeof chartJsSource === "string" ? chartJsSource : null;

/** Bumps the script URL whenever the bundled Chart.js changes, so browsers may cache it forever. */
export const CHART_JS_VERSION = "4.5.1";
