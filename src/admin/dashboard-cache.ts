/**
 * The dashboard's response-cache section: hit ratio and dollars saved by the response cache
 * (src/cache/) per route and per tenant, over the picked range, from the usage API's
 * `response_cache_*` aggregates (`group_by=model`: a route is the model name callers send).
 * The page's own script fetches the groups with its other queries and hands them to
 * `window.sluiceCache.render`; values go in the page as text, never as markup.
 */

/** Usage API queries the section is drawn from (the page adds the range). */
export const CACHE_QUERIES = {
  byRoute: "group_by=model&limit=10000",
  byTenant: "group_by=tenant&limit=10000",
};

/** Styles of the section (inside the page's one nonce'd style element). */
export const CACHE_CSS = `
  .cache table { width: 100%; border-collapse: collapse; font-size: 13px; }
  .cache td, .cache th { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); }
  .cache td.num, .cache th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .cache .empty { color: var(--muted); }
  .cache-tables { display: grid; gap: 24px; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); }
  .cache h3 { font-size: 13px; margin: 0 0 6px; color: var(--muted); font-weight: 600; }
`;

/** Rows shown per table: the groups the cache saved most for. */
const TOP = 10;

const table = (id: string, what: string) => `
    <table><thead><tr>
      <th>${what}</th><th class="num">Requests</th><th class="num">Cache hits</th><th class="num">Hit ratio</th><th class="num">Saved (USD)</th>
    </tr></thead><tbody id="${id}"></tbody></table>`;

/** The section's markup: one wide panel, a table per grouping side by side. */
export const CACHE_HTML = `
  <section class="panel wide cache" id="cache" aria-label="Response cache"><h2>Response cache: hits and dollars saved</h2>
    <div class="cache-tables">
      <div><h3>By route</h3>${table("cache-by-route", "Route")}</div>
      <div><h3>By tenant</h3>${table("cache-by-tenant", "Tenant")}</div>
    </div>
  </section>`;

/**
 * The section's script (an inline script of its own, under the page's nonce), run before the
 * page's: it exposes `window.sluiceCache.render(byRoute, byTenant)`, each a usage API answer.
 * @example `<script nonce="${nonce}">${cacheScript()}</script>`
 */
export function cacheScript(): string {
  return `(function () {
  "use strict";
  var TOP = ${TOP};
  function $(id) { return document.getElementById(id); }
  function cell(row, text, numeric) {
    var td = document.createElement("td");
    td.textContent = text;
    if (numeric) td.className = "num";
    row.appendChild(td);
  }
  function usd(value) { var n = Number(value); return "$" + n.toFixed(n >= 1 ? 2 : 4); }
  function ratio(value) { return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + " %"; }
  /** The groups with hits, most dollars saved first (then most hits), at most TOP of them. */
  function top(rows) {
    return rows
      .filter(function (row) { return row.response_cache_hits > 0; })
      .sort(function (a, b) {
        return Number(b.response_cache_saved_usd) - Number(a.response_cache_saved_usd) ||
          b.response_cache_hits - a.response_cache_hits;
      })
      .slice(0, TOP);
  }
  function fill(id, rows, field) {
    var body = $(id);
    body.textContent = "";
    var shown = top(rows);
    if (shown.length === 0) {
      var empty = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 5;
      td.className = "empty";
      td.textContent = "No response cache hits in this range.";
      empty.appendChild(td);
      body.appendChild(empty);
      return;
    }
    shown.forEach(function (row) {
      var tr = document.createElement("tr");
      cell(tr, row[field] === null || row[field] === undefined ? "(none)" : String(row[field]));
      cell(tr, Number(row.requests).toLocaleString("en-US"), true);
      cell(tr, Number(row.response_cache_hits).toLocaleString("en-US"), true);
      cell(tr, ratio(row.response_cache_hit_ratio), true);
      cell(tr, usd(row.response_cache_saved_usd), true);
      body.appendChild(tr);
    });
  }
  window.sluiceCache = {
    render: function (byRoute, byTenant) {
      fill("cache-by-route", byRoute.data, "model");
      fill("cache-by-tenant", byTenant.data, "tenant");
    },
  };
})();`;
}
