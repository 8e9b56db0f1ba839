import { LATENCY_BUCKETS_MS } from "./series";

/** The metric families sluice exposes, in the order they are printed. */
const FAMILIES = new Map<string, { type: "counter" | "histogram"; help: string }>([
  [
    "sluice_requests_total",
    { type: "counter", help: "Requests that reached the limits gate, by status class." },
  ],
  [
    "sluice_errors_total",
    { type: "counter", help: "Requests answered with a status of 400 or more, by error kind." },
  ],
  [
    "sluice_tokens_total",
    {
      type: "counter",
      help: "Tokens metered, by type (prompt, completion, cached_read, cache_write, reasoning).",
    },
  ],
  [
    "sluice_cost_usd_total",
    { type: "counter", help: "Cost metered in US dollars (exact sum of the usage rows' cost_usd)." },
  ],
  [
    "sluice_unpriced_requests_total",
    { type: "counter", help: "Requests to a model without a price (their cost is unknown, not zero)." },
  ],
  [
    "sluice_fallbacks_total",
    { type: "counter", help: "Upstream attempts beyond the first (retries and fallbacks)." },
  ],
  ["sluice_breaker_openings_total", { type: "counter", help: "Times a target's circuit breaker opened." }],
  [
    "sluice_metrics_dropped_series_total",
    {
      type: "counter",
      help: "Increments dropped because the series limit (metrics.max_series) was reached.",
    },
  ],
  [
    "sluice_request_duration_seconds",
    { type: "histogram", help: "Time from the request's arrival to its end (streams: the last byte)." },
  ],
  [
    "sluice_upstream_ttfb_seconds",
    { type: "histogram", help: "Time to the upstream's first byte, for the attempt that answered." },
  ],
]);

const LE = [...LATENCY_BUCKETS_MS.map((ms) => String(ms / 1000)), "+Inf"];

interface Histogram {
  buckets: number[];
  sumMs: number;
}

/** Series of one family: counters by label body, or histograms by label body. */
interface Family {
  counters: Map<string, number>;
  histograms: Map<string, Histogram>;
}

/**
 * The Prometheus text exposition (format 0.0.4, names OpenMetrics-compatible: `_total` counters,
 * `_seconds` and `_usd` units, cumulative `_bucket`s with `le`) of the series hash's fields.
 * Label values were escaped when the series were written.
 * @example renderPrometheus({ 'c|sluice_requests_total|route="chat"': 3 })
 */
export function renderPrometheus(fields: Record<string, unknown>): string {
  const families = new Map<string, Family>();
  for (const [field, raw] of Object.entries(fields)) addField(families, field, Number(raw));
  let text = "";
  for (const [name, meta] of FAMILIES) {
    const family = families.get(name);
    if (!family) continue;
    text += `# HELP ${name} ${meta.help}\n# TYPE ${name} ${meta.type}\n`;
    for (const [labels, value] of family.counters) text += `${name}${braces(labels)} ${value}\n`;
    for (const [labels, h] of family.histograms) text += histogramLines(name, labels, h);
  }
  return text;
}

function addField(families: Map<string, Family>, field: string, value: number): void {
  if (!Number.isFinite(value)) return;
  const kind = field.slice(0, 1);
  const nameEnd = field.indexOf("|", 2);
  if (field[1] !== "|" || nameEnd === -1) return;
  const name = field.slice(2, nameEnd);
  if (!FAMILIES.has(name)) return;
  let family = families.get(name);
  if (!family) {
    family = { counters: new Map(), histograms: new Map() };
    families.set(name, family);
  }
  const rest = field.slice(nameEnd + 1);
  if (kind === "c") family.counters.set(rest, value);
  else if (kind === "p") family.counters.set(rest, value / 1e12);
  else if (kind === "h" || kind === "s") addHistogramField(family, kind, rest, value);
}

function addHistogramField(family: Family, kind: "h" | "s", rest: string, value: number): void {
  const cut = kind === "h" ? rest.lastIndexOf("|") : rest.length;
  const labels = rest.slice(0, cut);
  let histogram = family.histograms.get(labels);
  if (!histogram) {
    histogram = { buckets: LE.map(() => 0), sumMs: 0 };
    family.histograms.set(labels, histogram);
  }
  if (kind === "s") {
    histogram.sumMs = value;
    return;
  }
  const index = Number(rest.slice(cut + 1));
  if (Number.isInteger(index) && index >= 0 && index < LE.length) histogram.buckets[index] = value;
}

function histogramLines(name: string, labels: string, h: Histogram): string {
  let lines = "";
  let cumulative = 0;
  const prefix = labels === "" ? "" : `${labels},`;
  h.buckets.forEach((count, i) => {
    cumulative += count;
    lines += `${name}_bucket{${prefix}le="${LE[i]}"} ${cumulative}\n`;
  });
  lines += `${name}_sum${braces(labels)} ${h.sumMs / 1000}\n`;
  lines += `${name}_count${braces(labels)} ${cumulative}\n`;
  return lines;
}

const braces = (labels: string): string => (labels === "" ? "" : `{${labels}}`);
