import type { Statement } from "./statement";

/**
 * Text for HTML element content and quoted attribute values: tenant names, ids and model names
 * come from callers and operators, so every one goes through here.
 * @example escapeHtml('<script>"x"</script>') // "&lt;script&gt;&quot;x&quot;&lt;/script&gt;"
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Integer micro-dollars as exact dollars with six decimals.
 * @example formatMicros(-1_234_567) // "-$1.234567"
 */
export function formatMicros(micros: number): string {
  const abs = BigInt(Math.abs(micros));
  const fraction = (abs % 1_000_000n).toString().padStart(6, "0");
  return `${micros < 0 ? "-" : ""}$${abs / 1_000_000n}.${fraction}`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #111; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
p.meta { color: #555; margin: 0 0 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: 0 0 1.5rem; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid #ddd; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #111; }
@media print { body { margin: 0; max-width: none; } }
`;

/**
 * The statement as a printable HTML page (no script; its one inline style is allowed by `nonce`).
 * @example c.html(statementHtml(statement, nonce))
 */
export function statementHtml(s: Statement, nonce: string): string {
  const who = s.tenant_name ? `${s.tenant_name} (${s.tenant})` : s.tenant;
  const lines = s.lines
    .map(
      (line) =>
        `<tr><td>${escapeHtml(line.model ?? "(none)")}</td><td class="n">${line.requests}</td>` +
        `<td class="n">${line.prompt_tokens}</td><td class="n">${line.completion_tokens}</td>` +
        `<td class="n">${formatMicros(line.billed_micros)}</td></tr>`,
    )
    .join("\n");
  const balance = (label: string, micros: number, total = false) =>
    `<tr${total ? ' class="total"' : ""}><td>${label}</td><td class="n">${formatMicros(micros)}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Statement ${escapeHtml(s.month)}: ${escapeHtml(who)}</title>
<style nonce="${escapeHtml(nonce)}">${STYLE}</style></head>
<body>
<h1>Statement for ${escapeHtml(who)}</h1>
<p class="meta">Month ${escapeHtml(s.month)} (UTC). Amounts in US dollars, exact to the micro-dollar.</p>
<table><thead><tr><th>Model</th><th class="n">Requests</th><th class="n">Prompt tokens</th>
<th class="n">Completion tokens</th><th class="n">Billed</th></tr></thead>
<tbody>
${lines || '<tr><td colspan="5">No usage this month.</td></tr>'}
</tbody></table>
<table><tbody>
${balance("Opening balance", s.opening_balance_micros)}
${balance("Top-ups", s.top_ups_micros)}
${balance("Usage", -s.usage_micros)}
${balance("Refunds", s.refunds_micros)}
${balance("Adjustments", s.adjustments_micros)}
${balance("Closing balance", s.closing_balance_micros, true)}
</tbody></table>
</body></html>
`;
}
