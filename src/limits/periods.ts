/** Budget periods in UTC: a budget counter is named after its period, so it resets at the boundary. */

export type PeriodKind = "day" | "month";

export interface Period {
  kind: PeriodKind;
  /** Part of the counter's name: `d:2026-01-31` or `m:2026-01`. */
  id: string;
  /** First millisecond of the next period. */
  endsAt: number;
}

const pad = (n: number): string => String(n).padStart(2, "0");

/**
 * The UTC day or month containing `now` (ms since the epoch).
 * @example periodOf("day", Date.UTC(2026, 0, 31, 23, 59)) // { id: "d:2026-01-31", endsAt: Date.UTC(2026, 1, 1) }
 */
export function periodOf(kind: PeriodKind, now: number): Period {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (kind === "month") {
    return { kind, id: `m:${year}-${pad(month + 1)}`, endsAt: Date.UTC(year, month + 1, 1) };
  }
  const day = date.getUTCDate();
  return { kind, id: `d:${year}-${pad(month + 1)}-${pad(day)}`, endsAt: Date.UTC(year, month, day + 1) };
}
