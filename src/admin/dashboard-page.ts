import { CACHE_CSS, CACHE_HTML, CACHE_QUERIES, cacheScript } from "./dashboard-cache";
import { KEYS_CSS, KEYS_HTML, keysScript } from "./dashboard-keys";
import { LIVE_STRIP_CSS, LIVE_STRIP_HTML, liveStripScript } from "./dashboard-live";

export interface DashboardPageOptions {
  /** CSP nonce for the page's one inline script and style. */
  nonce: string;
  chartJsUrl: string;
  /** The admin usage API (GET ?from=&to=&group_by=). */
  usageUrl: string;
  /** The live metrics (GET /admin/metrics/live) for the live strip. */
  liveUrl: string;
  /** The key management API (/admin/keys) and the request log (/admin/usage/requests). */
  keysUrl: string;
  requestsUrl: string;
}

/** Embeds a value in an inline script: JSON with `<` escaped so no string can close the tag. */
function scriptValue(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * The dashboard's HTML: charts drawn by Chart.js from the usage API. The body's `data-state`
 * (need-token, loading, ready, error) tells scripts and tests where it is.
 * @example renderDashboard({ nonce, chartJsUrl: "/admin/dashboard/chart.js", usageUrl: "/admin/usage" })
 */
export function renderDashboard(opts: DashboardPageOptions): string {
  const config = scriptValue({ usageUrl: opts.usageUrl, cacheQueries: CACHE_QUERIES });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>sluice · usage</title>
<style nonce="${opts.nonce}">
  :root { color-scheme: light; --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --accent: #2f6fed; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0 12px 0 0; }
  label { color: var(--muted); font-size: 12px; display: flex; flex-direction: column; gap: 2px; }
  input, button { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  button { cursor: pointer; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
  .controls { display: flex; align-items: flex-end; gap: 8px; flex-wrap: wrap; }
  .spacer { flex: 1; }
  #status { color: var(--muted); }
  body[data-state="error"] #status { color: #b42318; }
  main { padding: 20px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
  .cards { grid-column: 1 / -1; display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); }
  .card, .panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
  .card .value { font-size: 22px; font-weight: 600; }
  .card .label { color: var(--muted); font-size: 12px; }
  .panel h2 { font-size: 14px; margin: 0 0 10px; }
  .panel.wide { grid-column: 1 / -1; }
  .chart { position: relative; height: 280px; }
  #login { max-width: 420px; margin: 80px auto; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 24px; display: grid; gap: 12px; }
  body[data-state="need-token"] main, body[data-state="need-token"] .controls { display: none; }
  body:not([data-state="need-token"]) #login { display: none; }
${LIVE_STRIP_CSS}${KEYS_CSS}${CACHE_CSS}</style>
</head>
<body data-state="loading">
<header>
  <h1>sluice · usage</h1>
  <div class="controls">
    <label>From <input type="date" id="from"></label>
    <label>To <input type="date" id="to"></label>
    <button type="button" data-days="1">24 h</button>
    <button type="button" data-days="7">7 d</button>
    <button type="button" data-days="30">30 d</button>
    <button type="button" class="primary" id="apply">Apply</button>
  </div>
  <span id="status" role="status"></span>
  <span class="spacer"></span>
  <button type="button" id="signout">Forget token</button>
</header>

<form id="login" autocomplete="off">
  <h2>Admin token</h2>
  <p>The token stays in this tab's session storage and is sent only to the usage API.</p>
  <input type="password" id="token" placeholder="ADMIN_TOKEN" required>
  <button type="submit" class="primary">Open dashboard</button>
</form>

<main>${LIVE_STRIP_HTML}
  <section class="cards">
    <div class="card"><div class="label">Requests</div><div class="value" id="total-requests">–</div></div>
    <div class="card"><div class="label">Cost (USD)</div><div class="value" id="total-cost">–</div></div>
    <div class="card"><div class="label">Error rate</div><div class="value" id="total-errors">–</div></div>
    <div class="card"><div class="label">Prompt / completion tokens</div><div class="value" id="total-tokens">–</div></div>
    <div class="card"><div class="label">Cached prompt tokens</div><div class="value" id="total-cached">–</div></div>
    <div class="card"><div class="label">Unpriced requests</div><div class="value" id="total-unpriced">–</div></div>
    <div class="card"><div class="label">Response cache hit ratio</div><div class="value" id="total-cache-hits">–</div></div>
    <div class="card"><div class="label">Saved by the response cache</div><div class="value" id="total-cache-saved">–</div></div>
  </section>
  <section class="panel wide"><h2>Cost per day by model (USD)</h2><div class="chart"><canvas id="cost-by-day"></canvas></div></section>
  <section class="panel"><h2>Top keys by cost (USD)</h2><div class="chart"><canvas id="top-keys"></canvas></div></section>
  <section class="panel"><h2>Top tenants by cost (USD)</h2><div class="chart"><canvas id="top-tenants"></canvas></div></section>
  <section class="panel"><h2>Error rate by provider (%)</h2><div class="chart"><canvas id="errors-by-provider"></canvas></div></section>
  <section class="panel"><h2>Latency percentiles per day (ms)</h2><div class="chart"><canvas id="latency"></canvas></div></section>
  <section class="panel"><h2>Latency percentiles by provider (ms)</h2><div class="chart"><canvas id="latency-by-provider"></canvas></div></section>${CACHE_HTML}${KEYS_HTML}
</main>

<script src="${opts.chartJsUrl}"></script>
<script nonce="${opts.nonce}">${cacheScript()}</script>
<script nonce="${opts.nonce}">${keysScript({ keysUrl: opts.keysUrl, usageUrl: opts.usageUrl, requestsUrl: opts.requestsUrl })}</script>
<script nonce="${opts.nonce}">
(function () {
  "use strict";
  var CONFIG = ${config};
  var TOKEN_KEY = "sluice.adminToken";
  var DAY = 86400000;
  var PALETTE = ["#2f6fed", "#f79009", "#12b76a", "#ee46bc", "#7a5af8", "#06aed4", "#f04438", "#667085", "#a15c07", "#099250"];
  var charts = {};

  function $(id) { return document.getElementById(id); }
  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  function setState(state, message) {
    document.body.setAttribute("data-state", state);
    $("status").textContent = message || "";
  }
  function isoDay(date) { return date.toISOString().slice(0, 10); }
  function setRange(days) {
    var today = new Date();
    $("to").value = isoDay(today);
    $("from").value = isoDay(new Date(today.getTime() - (days - 1) * DAY));
  }
  /** The picker's days are inclusive; the API's "to" is exclusive. */
  function range() {
    var from = Date.parse($("from").value + "T00:00:00Z");
    var to = Date.parse($("to").value + "T00:00:00Z") + DAY;
    return { from: from, to: to };
  }
  function daysOf(r) {
    var days = [];
    for (var t = r.from; t < r.to; t += DAY) days.push(isoDay(new Date(t)));
    return days;
  }

  function query(r, params) {
    var url = CONFIG.usageUrl + "?from=" + isoDay(new Date(r.from)) + "&to=" + isoDay(new Date(r.to)) + "&" + params;
    return fetch(url, { headers: { authorization: "Bearer " + token() }, cache: "no-store" }).then(function (res) {
      return res.json().then(function (body) {
        if (res.status === 401) {
          sessionStorage.removeItem(TOKEN_KEY);
          var denied = new Error("The admin token was refused.");
          denied.needToken = true;
          throw denied;
        }
        if (!res.ok) throw new Error((body.error && body.error.message) || "HTTP " + res.status);
        return body;
      });
    });
  }

  function usd(value) { return Number(value); }
  function fmtUsd(value) {
    var n = Number(value);
    return "$" + n.toFixed(n >= 1 ? 2 : 4);
  }
  function fmtInt(n) { return Number(n).toLocaleString("en-US"); }
  function label(value) { return value === null || value === undefined ? "(none)" : String(value); }
  /** Key ids as "name · tenant" (from the keys section), never bare ids. */
  var keyName = function (id) { return label(id); };

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    charts[id] = new Chart($(id), config);
  }

  function barChart(id, rows, key, value, horizontal, name) {
    draw(id, {
      type: "bar",
      data: {
        labels: rows.map(function (row) { return (name || label)(row[key]); }),
        datasets: [{ label: id, data: rows.map(value), backgroundColor: PALETTE[0] }],
      },
      options: { indexAxis: horizontal ? "y" : "x", plugins: { legend: { display: false } } },
    });
  }

  function render(r, byDayModel, byKey, byTenant, byProvider, byDay, cacheByRoute, cacheByTenant) {
    var totals = byDay.totals;
    $("total-requests").textContent = fmtInt(totals.requests);
    $("total-cost").textContent = fmtUsd(totals.cost_usd);
    $("total-errors").textContent = totals.requests ? ((100 * totals.errors) / totals.requests).toFixed(1) + " %" : "–";
    $("total-tokens").textContent = fmtInt(totals.prompt_tokens) + " / " + fmtInt(totals.completion_tokens);
    $("total-cached").textContent = fmtInt(totals.cached_tokens);
    $("total-unpriced").textContent = fmtInt(totals.unpriced_requests);
    $("total-cache-hits").textContent = totals.response_cache_hit_ratio === null ? "–"
      : (100 * totals.response_cache_hit_ratio).toFixed(1) + " % (" + fmtInt(totals.response_cache_hits) + ")";
    $("total-cache-saved").textContent = fmtUsd(totals.response_cache_saved_usd);
    window.sluiceCache.render(cacheByRoute, cacheByTenant);

    var days = daysOf(r);
    var models = [];
    byDayModel.data.forEach(function (row) { if (models.indexOf(label(row.model)) < 0) models.push(label(row.model)); });
    draw("cost-by-day", {
      type: "bar",
      data: {
        labels: days,
        datasets: models.map(function (model, i) {
          return {
            label: model,
            backgroundColor: PALETTE[i % PALETTE.length],
            data: days.map(function (day) {
              var sum = 0;
              byDayModel.data.forEach(function (row) { if (row.day === day && label(row.model) === model) sum += usd(row.cost_usd); });
              return sum;
            }),
          };
        }),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });

    barChart("top-keys", byKey.data, "key_id", function (row) { return usd(row.cost_usd); }, true, keyName);
    barChart("top-tenants", byTenant.data, "tenant", function (row) { return usd(row.cost_usd); }, true);
    barChart("errors-by-provider", byProvider.data, "provider", function (row) {
      return row.requests ? (100 * row.errors) / row.requests : 0;
    }, false);

    var byDayMap = {};
    byDay.data.forEach(function (row) { byDayMap[row.day] = row; });
    draw("latency", {
      type: "line",
      data: {
        labels: days,
        datasets: [
          { label: "p50", borderColor: PALETTE[0], backgroundColor: PALETTE[0], spanGaps: true,
            data: days.map(function (day) { return byDayMap[day] ? byDayMap[day].p50_latency_ms : null; }) },
          { label: "p95", borderColor: PALETTE[1], backgroundColor: PALETTE[1], spanGaps: true,
            data: days.map(function (day) { return byDayMap[day] ? byDayMap[day].p95_latency_ms : null; }) },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });

    draw("latency-by-provider", {
      type: "bar",
      data: {
        labels: byProvider.data.map(function (row) { return label(row.provider); }),
        datasets: [
          { label: "p50", backgroundColor: PALETTE[0], data: byProvider.data.map(function (row) { return row.p50_latency_ms; }) },
          { label: "p95", backgroundColor: PALETTE[1], data: byProvider.data.map(function (row) { return row.p95_latency_ms; }) },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
  }

  function load() {
    if (!token()) { setState("need-token", ""); $("token").focus(); return; }
    var r = range();
    if (!(r.from < r.to)) { setState("error", "Pick a start date before the end date."); return; }
    setState("loading", "Loading…");
    Promise.all([
      query(r, "group_by=day,model&limit=10000"),
      query(r, "group_by=key&limit=10"),
      query(r, "group_by=tenant&limit=10"),
      query(r, "group_by=provider"),
      query(r, "group_by=day"),
      query(r, CONFIG.cacheQueries.byRoute),
      query(r, CONFIG.cacheQueries.byTenant),
      window.sluiceKeys.names().then(function (name) { keyName = name; }),
    ]).then(function (results) {
      render(r, results[0], results[1], results[2], results[3], results[4], results[5], results[6]);
      setState("ready", "Updated " + new Date().toLocaleTimeString());
    }).catch(function (err) {
      if (err.needToken) { setState("need-token", ""); $("status").textContent = err.message; return; }
      setState("error", err.message);
    });
  }

  $("login").addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token").value = "";
    load();
  });
  $("signout").addEventListener("click", function () {
    sessionStorage.removeItem(TOKEN_KEY);
    setState("need-token", "");
  });
  $("apply").addEventListener("click", load);
  Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), function (button) {
    button.addEventListener("click", function () { setRange(Number(button.getAttribute("data-days"))); load(); });
  });

  window.sluiceDashboard = { charts: charts, reload: load };
  setRange(7);
  load();
})();
</script>
<script nonce="${opts.nonce}">${liveStripScript(opts.liveUrl)}</script>
</body>
</html>
`;
}
