/** bench/SOAK.md: the soak's minutes, its totals and the issue's checks. */
import { distribution } from "./load";
import { int, ms, table } from "./markdown";

/** One minute of the soak, by scheduled send time. */
export interface SoakMinute {
  sent: number;
  /** Outcome key (see soak-request.ts) → count. */
  outcomes: Map<string, number>;
  /** Scheduled send → last byte, in ms, answered requests only. */
  latencies: number[];
  /** Highest workerd RSS sampled (once a second) during the minute. */
  peakRssMb: number;
  /** Every 5xx: when it was scheduled (ms from start) and its key. */
  fiveXx?: { atMs: number; key: string }[];
}

export interface SoakResult {
  date: string;
  machine: string;
  loadAverageBefore: number;
  options: { minutes: number; rate: number; pauseSeconds: number };
  v8Flags: string;
  minutes: SoakMinute[];
  sent: number;
  /** Requests with no answer 60 s after the last send. */
  unanswered: number;
  /** Usage rows of the soak's tenant in Postgres. */
  rows: number;
  /** When redis-server was stopped (ms from start). */
  pause?: [number, number];
  kinds: { name: string; weight: number }[];
}

/** 5xx allowed: `limits_unavailable`, scheduled from 1 s before the pause to 10 s after it (queued requests drain). */
const PAUSE_GRACE_MS = { before: 1_000, after: 10_000 };

const count = (m: SoakMinute, test: (key: string) => boolean) =>
  [...m.outcomes].filter(([key]) => test(key)).reduce((a, [, n]) => a + n, 0);

function minuteRow(m: SoakMinute, i: number): string[] {
  const d = distribution(m.latencies);
  return [
    String(i + 1),
    int(m.sent),
    int(count(m, (k) => k === "200")),
    int(count(m, (k) => k === "200 without [DONE]")),
    int(count(m, (k) => k === "aborted by the client")),
    int(count(m, (k) => k.startsWith("4"))),
    int(count(m, (k) => k === "503 limits_unavailable")),
    int(count(m, (k) => k.startsWith("5") && k !== "503 limits_unavailable")),
    int(count(m, (k) => k.startsWith("network error") || k.endsWith("cut short"))),
    ms(d.p50),
    ms(d.p99),
    ms(d.p999),
    m.peakRssMb.toFixed(0),
  ];
}

/** The checks: rows == sent, no unexpected 5xx, flat RSS. */
function checks(r: SoakResult): { lines: string[]; ok: boolean } {
  const all5xx = r.minutes.flatMap((m) => m.fiveXx ?? []);
  const allowed = (x: { atMs: number; key: string }) =>
    r.pause !== undefined &&
    x.key === "503 limits_unavailable" &&
    x.atMs >= r.pause[0] - PAUSE_GRACE_MS.before &&
    x.atMs <= r.pause[1] + PAUSE_GRACE_MS.after;
  const unexpected = all5xx.filter((x) => !allowed(x));
  const second = r.minutes[1]?.peakRssMb;
  const last = r.minutes[r.minutes.length - 1]?.peakRssMb ?? 0;
  const flat = second === undefined || last <= 1.2 * second;
  const rowsOk = r.rows === r.sent;
  const lines = [
    `- usage rows in Postgres (tenant of the soak key) equal requests sent: ${rowsOk ? "yes" : "NO"} (${int(r.rows)} rows, ${int(r.sent)} sent)`,
    `- no 5xx but \`limits_unavailable\` during the Redis pause: ${unexpected.length === 0 ? "yes" : "NO"} (${int(all5xx.length - unexpected.length)} limits_unavailable in the pause window, ${int(unexpected.length)} other${unexpected.length > 0 ? `: ${[...new Set(unexpected.map((x) => x.key))].join(", ")}` : ""})`,
    `- flat RSS (last minute's peak within 1.2x of the second minute's): ${flat ? "yes" : "NO"} (${second === undefined ? "one minute only" : `${last.toFixed(0)} MB against ${second.toFixed(0)} MB`})`,
    `- requests unanswered 60 s after the last send: ${int(r.unanswered)}`,
  ];
  return { lines, ok: rowsOk && unexpected.length === 0 && flat && r.unanswered === 0 };
}

/**
 * The whole SOAK.md, and whether every check passed.
 * @example const { markdown, ok } = renderSoak(result);
 */
export function renderSoak(r: SoakResult): { markdown: string; ok: boolean } {
  const totals = new Map<string, number>();
  for (const m of r.minutes) for (const [k, n] of m.outcomes) totals.set(k, (totals.get(k) ?? 0) + n);
  const verdict = checks(r);
  const pause = r.pause
    ? `redis-server stopped (SIGSTOP) from ${(r.pause[0] / 1000).toFixed(1)} s to ${(r.pause[1] / 1000).toFixed(1)} s`
    : "no Redis pause";
  const markdown = `# Soak results (latest run)

Written by \`npm run soak\` (bench/soak.ts), overwritten by every run; see bench/README.md.

- Date: ${r.date}; machine: ${r.machine}; 1-minute load average before: ${r.loadAverageBefore.toFixed(2)}
- ${r.options.minutes} min at ${r.options.rate} req/s, open loop (latency from each request's scheduled send time); ${pause}
- workerd v8Flags: \`${r.v8Flags}\`; the gateway as deployed, with auth, limits and metering on
- Mix: ${r.kinds.map((k) => `${k.name} ${k.weight}%`).join(", ")}

## Checks

${verdict.lines.join("\n")}

## Per minute (latency in ms from the scheduled send; RSS of the workerd process)

${table(
  [
    "minute",
    "sent",
    "200",
    "200 no [DONE]",
    "aborted",
    "4xx",
    "503 limits_unavailable",
    "other 5xx",
    "network",
    "p50",
    "p99",
    "p99.9",
    "peak RSS MB",
  ],
  r.minutes.map(minuteRow),
)}

## Outcomes over the whole run

${table(
  ["outcome", "requests"],
  [...totals].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, int(n)]),
)}
`;
  return { markdown, ok: verdict.ok };
}
