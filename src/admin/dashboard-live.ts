/**
 * The dashboard's live strip, its own section of the page: the last five minutes from the live
 * metrics (requests per second, 5xx rate, p95 latency, cost per hour) and each target's breaker,
 * refreshed every few seconds from `GET /admin/metrics/live` with the page's admin token.
 */

/** Styles of the strip (inside the page's one nonce'd style element). */
export const LIVE_STRIP_CSS = `
  .live { grid-column: 1 / -1; display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); }
  .live .card .value { font-variant-numeric: tabular-nums; }
  .breakers { grid-column: 1 / -1; }
  .breakers table { width: 100%; border-collapse: collapse; }
  .breakers td, .breakers th { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); }
  .breakers td[data-state="open"] { color: #b42318; font-weight: 600; }
`;

/** The strip's markup, first in the page's main grid. */
export const LIVE_STRIP_HTML = `
  <section class="live" id="live" aria-label="Last 5 minutes">
    <div class="card"><div class="label">Requests / s (5 min)</div><div class="value" id="live-rps">–</div></div>
    <div class="card"><div class="label">Error rate, 5xx (5 min)</div><div class="value" id="live-errors">–</div></div>
    <div class="card"><div class="label">p95 latency (5 min)</div><div class="value" id="live-p95">–</div></div>
    <div class="card"><div class="label">Cost per hour (5 min)</div><div class="value" id="live-cost">–</div></div>
  </section>
  <section class="panel breakers"><h2>Circuit breakers</h2>
    <table><thead><tr><th>Target</th><th>Shared state</th><th>Open until</th></tr></thead><tbody id="live-breakers"></tbody></table>
  </section>`;

/**
 * The strip's script (an inline script of its own, under the page's nonce). `liveUrl` is
 * embedded as JSON with `<` escaped, so it cannot close the script element.
 * @example liveStripScript("/admin/metrics/live")
 */
export function liveStripScript(liveUrl: string): string {
  const url = JSON.stringify(liveUrl).replace(/</g, "\\u003c");
  return `(function () {
  "use strict";
  var URL_LIVE = ${url};
  function $(id) { return document.getElementById(id); }
  function cell(text, state) {
    var td = document.createElement("td");
    td.textContent = text;
    if (state) td.setAttribute("data-state", state);
    return td;
  }
  function render(body) {
    var live = body.live;
    $("live-rps").textContent = live.requestsPerSecond.toFixed(2);
    $("live-errors").textContent = live.errorRate === null ? "–" : (100 * live.errorRate).toFixed(1) + " %";
    $("live-p95").textContent = live.p95Ms === null ? "–" : "≤ " + live.p95Ms + " ms";
    $("live-cost").textContent = "$" + live.costPerHourUsd.toFixed(live.costPerHourUsd >= 1 ? 2 : 4);
    var rows = $("live-breakers");
    rows.textContent = "";
    body.breakers.forEach(function (b) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(b.target));
      tr.appendChild(cell(b.shared, b.shared));
      tr.appendChild(cell(b.open_until || "–"));
      rows.appendChild(tr);
    });
    document.getElementById("live").setAttribute("data-updated", String(Date.now()));
  }
  function refresh() {
    var token = sessionStorage.getItem("sluice.adminToken");
    if (!token) return;
    fetch(URL_LIVE, { headers: { authorization: "Bearer " + token }, cache: "no-store" })
      .then(function (res) { return res.ok ? res.json().then(render) : null; })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 5000);
  // The page signs in and reloads on its own: refresh with it (each time it becomes ready).
  new MutationObserver(function () {
    if (document.body.getAttribute("data-state") === "ready") refresh();
  }).observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
  window.sluiceLive = { refresh: refresh };
})();`;
}
