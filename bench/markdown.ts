/** Markdown helpers shared by the bench's reports (RESULTS.md, SOAK.md). */

export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "n/a";
}

export function added(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base)) return "n/a";
  const diff = value - base;
  return `${diff >= 0 ? "+" : "-"}${Math.abs(diff).toFixed(2)}`;
}

export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
}

/** A Markdown table with padded columns, readable as plain text too. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
