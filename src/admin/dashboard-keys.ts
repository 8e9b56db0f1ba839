/**
 * The dashboard's key management and request log, their own sections of the page: list and search
 * keys, create one (its token shown once, with a copy button), rotate and revoke; each key's usage
 * in the picked range, today's spend and what is left of its own daily budget; and the request log
 * (`GET /admin/usage/requests`) with filters. Everything goes through the admin API with the page's
 * admin token; values are put in the page as text, never as markup.
 */

/** Styles of the sections (inside the page's one nonce'd style element). */
export const KEYS_CSS = `
  .keys, .requests { grid-column: 1 / -1; }
  .keys form, .requests form, .keys .toolbar { display: flex; gap: 8px; align-items: flex-end; flex-wrap: wrap; margin-bottom: 10px; }
  .keys table, .requests table { width: 100%; border-collapse: collapse; font-size: 13px; }
  .keys td, .keys th, .requests td, .requests th { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  .keys td.num, .requests td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .keys tr[data-status="revoked"] td { color: var(--muted); text-decoration: line-through; }
  .keys tr[data-status="revoked"] td.actions { text-decoration: none; }
  .secret { background: #fffaeb; border: 1px solid #fedf89; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .secret input { flex: 1; min-width: 320px; font-family: ui-monospace, monospace; }
  .muted { color: var(--muted); }
  .keys [hidden], .requests [hidden] { display: none; }
  #key-message[data-kind="error"], #requests-message[data-kind="error"] { color: #b42318; }
`;

/** The sections' markup, at the end of the page's main grid. */
export const KEYS_HTML = `
  <section class="panel keys" id="keys" aria-label="API keys">
    <h2>API keys</h2>
    <form id="key-create" autocomplete="off">
      <label>Tenant<input id="new-tenant" required maxlength="128" placeholder="acme"></label>
      <label>Name<input id="new-name" maxlength="128" placeholder="search backend"></label>
      <label>Plan<input id="new-plan" maxlength="64" placeholder="free"></label>
      <label>Models<input id="new-models" maxlength="512" placeholder="gpt-4o*, claude-*"></label>
      <label>Requests / min<input id="new-rpm" type="number" min="1" step="1"></label>
      <label>Budget / day (USD)<input id="new-budget" type="number" min="0" step="any"></label>
      <label>Cache TTL max (s, 0 = off)<input id="new-cache-ttl" type="number" min="0" max="2592000" step="1"></label>
      <label>Expires in<input id="new-expires" maxlength="16" placeholder="30d"></label>
      <button type="submit" class="primary">Create key</button>
    </form>
    <div class="secret" id="key-secret" hidden>
      <strong id="key-secret-title">New key</strong>
      <input id="key-token" readonly aria-label="The new key">
      <button type="button" id="key-copy">Copy</button>
      <button type="button" id="key-secret-done">Done</button>
      <span class="muted">Shown once: sluice keeps only its metadata.</span>
    </div>
    <div class="toolbar">
      <label>Search<input id="key-search" type="search" placeholder="name, tenant or id"></label>
      <label class="inline"><span>Show revoked</span><input id="key-show-revoked" type="checkbox" checked></label>
      <span id="key-message" class="muted"></span>
    </div>
    <table><thead><tr>
      <th>Name</th><th>Tenant</th><th>Plan</th><th>Created</th><th>Status</th>
      <th>Requests (range)</th><th>Cost (range)</th><th>Spent today</th><th>Daily budget left</th><th></th>
    </tr></thead><tbody id="keys-body"></tbody></table>
  </section>
  <section class="panel requests" id="requests" aria-label="Request log">
    <h2>Request log</h2>
    <form id="requests-filter" autocomplete="off">
      <label>Tenant<input id="filter-tenant" maxlength="128"></label>
      <label>Key<select id="filter-key"><option value="">any</option></select></label>
      <label>Model<input id="filter-model" maxlength="256"></label>
      <label>Provider<input id="filter-provider" maxlength="256"></label>
      <button type="submit">Filter</button>
      <span id="requests-message" class="muted"></span>
    </form>
    <table><thead><tr>
      <th>Time (UTC)</th><th>Key</th><th>Tenant</th><th>Model</th><th>Provider</th><th>Status</th>
      <th>Tokens in / out</th><th>Cost</th><th>Latency</th>
    </tr></thead><tbody id="requests-body"></tbody></table>
    <button type="button" id="requests-more" hidden>More</button>
  </section>`;

/** Where the sections' script calls the admin API. */
export interface KeysScriptConfig {
  keysUrl: string;
  usageUrl: string;
  requestsUrl: string;
}

/**
 * The sections' script (an inline script of its own, under the page's nonce). It runs before the
 * charts' script and exposes `window.sluiceKeys.names()`, which the charts use to label keys.
 * @example `<script nonce="${nonce}">${keysScript({ keysUrl, usageUrl, requestsUrl })}</script>`
 */
export function keysScript(config: KeysScriptConfig): string {
  return `(function () {
  "use strict";
  var CONFIG = ${JSON.stringify(config).replace(/</g, "\\u003c")};
${KEYS_SCRIPT_BODY}
})();`;
}

const KEYS_SCRIPT_BODY = `
  var TOKEN_KEY = "sluice.adminToken";
  var DAY = 86400000;
  var keys = [];
  var byId = {};
  var cursor = null;
  function $(id) { return document.getElementById(id); }
  function isoDay(t) { return new Date(t).toISOString().slice(0, 10); }
  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }
  function usd(value) { var n = Number(value); return isFinite(n) ? "$" + n.toFixed(n >= 1 ? 2 : n >= 0.01 ? 4 : 6) : "–"; }
  /** Budgets to the micro-dollar, the unit sluice counts in. */
  function micros(n) { return "$" + Number(n).toFixed(6); }
  function say(id, text, kind) { $(id).textContent = text || ""; $(id).setAttribute("data-kind", kind || ""); }

  /** Calls the admin API with the page's token; a refused token sends the page back to the login. */
  function api(url, init) {
    init = init || {};
    init.headers = Object.assign({ authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) }, init.headers || {});
    init.cache = "no-store";
    return fetch(url, init).then(function (res) {
      return res.json().then(function (body) {
        if (res.status === 401) {
          sessionStorage.removeItem(TOKEN_KEY);
          document.body.setAttribute("data-state", "need-token");
          throw new Error("The admin token was refused.");
        }
        if (!res.ok) throw new Error((body.error && body.error.message) || "HTTP " + res.status);
        return body;
      });
    });
  }
  function nameOf(id) {
    var key = byId[id];
    if (!key) return id ? String(id).slice(0, 8) + "…" : "(none)";
    return (key.name || String(key.id).slice(0, 8) + "…") + " · " + key.tenant;
  }
  function statusOf(key) {
    if (key.revoked_at) return "revoked";
    if (key.grace_ends_at) return "rotating";
    if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return "expired";
    return "active";
  }
  function pickedRange() {
    var from = $("from") && $("from").value ? $("from").value : isoDay(Date.now() - 6 * DAY);
    var to = $("to") && $("to").value ? isoDay(Date.parse($("to").value + "T00:00:00Z") + DAY) : isoDay(Date.now() + DAY);
    return "from=" + from + "&to=" + to;
  }
  function usageByKey(range) {
    return api(CONFIG.usageUrl + "?" + range + "&group_by=key&limit=1000").then(function (body) {
      var map = {};
      body.data.forEach(function (row) { map[row.key_id] = row; });
      return map;
    });
  }

  function actionButton(row, label, handler) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.setAttribute("data-action", label.toLowerCase());
    button.addEventListener("click", handler);
    row.appendChild(button);
  }
  function renderKeys(inRange, today) {
    var body = $("keys-body");
    var search = $("key-search").value.trim().toLowerCase();
    var showRevoked = $("key-show-revoked").checked;
    body.textContent = "";
    keys.forEach(function (key) {
      var status = statusOf(key);
      var haystack = [key.name, key.tenant, key.id, key.plan].join(" ").toLowerCase();
      if (search && haystack.indexOf(search) < 0) return;
      if (!showRevoked && status === "revoked") return;
      var row = document.createElement("tr");
      row.setAttribute("data-key-id", key.id);
      row.setAttribute("data-status", status);
      cell(row, key.name || "(unnamed)");
      cell(row, key.tenant);
      cell(row, key.plan || "default");
      cell(row, key.created_at.slice(0, 10));
      cell(row, status);
      var usage = inRange[key.id];
      var spent = today[key.id] ? Number(today[key.id].cost_usd) : 0;
      cell(row, usage ? usage.requests : 0, "num");
      cell(row, usage ? usd(usage.cost_usd) : usd(0), "num");
      cell(row, micros(spent), "num");
      var budget = key.limits && key.limits.budget_usd_day;
      cell(row, budget === undefined || budget === null ? "plan's" : micros(Math.max(0, budget - spent)), "num");
      var actions = cell(row, "", "actions");
      if (status !== "revoked") {
        actionButton(actions, "Rotate", function () { rotate(key); });
        actionButton(actions, "Revoke", function () { revoke(key); });
      }
      body.appendChild(row);
    });
  }
  function fillKeyFilter() {
    var select = $("filter-key");
    var chosen = select.value;
    while (select.options.length > 1) select.remove(1);
    keys.forEach(function (key) {
      var option = document.createElement("option");
      option.value = key.id;
      option.textContent = nameOf(key.id);
      select.appendChild(option);
    });
    select.value = chosen;
  }

  var latest = { inRange: {}, today: {} };
  /** Loads the keys and their usage, draws the table; resolves to the id → name labeller. */
  function loadKeys() {
    var todayRange = "from=" + isoDay(Date.now()) + "&to=" + isoDay(Date.now() + DAY);
    return Promise.all([api(CONFIG.keysUrl + "?limit=1000"), usageByKey(pickedRange()), usageByKey(todayRange)])
      .then(function (results) {
        keys = results[0].data;
        byId = {};
        keys.forEach(function (key) { byId[key.id] = key; });
        latest = { inRange: results[1], today: results[2] };
        renderKeys(latest.inRange, latest.today);
        fillKeyFilter();
        say("key-message", keys.length + " keys" + (results[0].has_more ? " (the newest 1000)" : ""));
        return nameOf;
      })
      .catch(function (err) { say("key-message", err.message, "error"); return nameOf; });
  }

  function showSecret(title, token) {
    $("key-secret-title").textContent = title;
    $("key-token").value = token;
    $("key-secret").hidden = false;
    $("key-token").select();
  }
  function rotate(key) {
    if (!window.confirm("Rotate " + nameOf(key.id) + "? The old key keeps working for an hour.")) return;
    api(CONFIG.keysUrl + "/" + encodeURIComponent(key.id) + "/rotate", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grace_seconds: 3600 }),
    }).then(function (created) {
      showSecret("Successor of " + nameOf(key.id), created.key);
      return loadKeys();
    }).catch(function (err) { say("key-message", err.message, "error"); });
  }
  function revoke(key) {
    if (!window.confirm("Revoke " + nameOf(key.id) + "? It is refused from the next request on.")) return;
    api(CONFIG.keysUrl + "/" + encodeURIComponent(key.id), { method: "DELETE" })
      .then(function () { say("key-message", "Revoked " + nameOf(key.id)); return loadKeys(); })
      .catch(function (err) { say("key-message", err.message, "error"); });
  }
  function createBody() {
    var body = { tenant: $("new-tenant").value.trim() };
    var limits = {};
    if ($("new-name").value.trim()) body.name = $("new-name").value.trim();
    if ($("new-plan").value.trim()) body.plan = $("new-plan").value.trim();
    if ($("new-models").value.trim()) body.models = $("new-models").value.split(",").map(function (m) { return m.trim(); }).filter(Boolean);
    if ($("new-expires").value.trim()) body.expires_in = $("new-expires").value.trim();
    if ($("new-rpm").value) limits.rpm = Number($("new-rpm").value);
    if ($("new-budget").value) limits.budget_usd_day = Number($("new-budget").value);
    if ($("new-cache-ttl").value) limits.cache_max_ttl_seconds = Number($("new-cache-ttl").value);
    if (Object.keys(limits).length) body.limits = limits;
    return body;
  }
  $("key-create").addEventListener("submit", function (event) {
    event.preventDefault();
    api(CONFIG.keysUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(createBody()) })
      .then(function (created) {
        $("key-create").reset();
        showSecret("New key " + (created.name || created.id), created.key);
        return loadKeys();
      })
      .catch(function (err) { say("key-message", err.message, "error"); });
  });
  $("key-copy").addEventListener("click", function () {
    var token = $("key-token").value;
    var done = function () { $("key-copy").textContent = "Copied"; };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(token).then(done, function () { $("key-token").select(); });
    else { $("key-token").select(); done(); }
  });
  $("key-secret-done").addEventListener("click", function () {
    $("key-token").value = "";
    $("key-secret").hidden = true;
    $("key-copy").textContent = "Copy";
  });
  $("key-search").addEventListener("input", function () { renderKeys(latest.inRange, latest.today); });
  $("key-show-revoked").addEventListener("change", function () { renderKeys(latest.inRange, latest.today); });

  function requestFilters() {
    var params = [pickedRange(), "limit=50"];
    [["tenant", "filter-tenant"], ["key_id", "filter-key"], ["model", "filter-model"], ["provider", "filter-provider"]].forEach(function (pair) {
      var value = $(pair[1]).value.trim();
      if (value) params.push(pair[0] + "=" + encodeURIComponent(value));
    });
    return params.join("&");
  }
  function loadRequests(more) {
    if (!more) { cursor = null; $("requests-body").textContent = ""; }
    var url = CONFIG.requestsUrl + "?" + requestFilters() + (more && cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    return api(url).then(function (page) {
      page.data.forEach(function (r) {
        var row = document.createElement("tr");
        row.setAttribute("data-request-id", r.request_id);
        cell(row, r.created_at.slice(0, 19).replace("T", " "));
        cell(row, nameOf(r.key_id));
        cell(row, r.tenant);
        cell(row, r.requested_model);
        cell(row, r.provider);
        cell(row, r.status + (r.error_code ? " " + r.error_code : "") + (r.cache_hit ? " · cache hit" : ""));
        cell(row, r.prompt_tokens + " / " + r.completion_tokens, "num");
        cell(row, r.cost_usd === null ? "unpriced" : usd(r.cost_usd), "num");
        cell(row, r.latency_ms + " ms", "num");
        $("requests-body").appendChild(row);
      });
      cursor = page.next_cursor;
      $("requests-more").hidden = !page.has_more;
      say("requests-message", $("requests-body").children.length + " requests shown");
    }).catch(function (err) { say("requests-message", err.message, "error"); });
  }
  $("requests-filter").addEventListener("submit", function (event) { event.preventDefault(); loadRequests(false); });
  $("requests-more").addEventListener("click", function () { loadRequests(true); });

  window.sluiceKeys = {
    /** Loads keys (and the request log); resolves to a function labelling a key id by name and tenant. */
    names: function () {
      return loadKeys().then(function (label) { loadRequests(false); return label; });
    },
    reload: loadKeys,
  };
`;
