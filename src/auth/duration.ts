const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
const DURATION = /^(\d+)\s*([smhdw]?)$/;

/**
 * Parses a lifetime like `30d`, `12h`, `90m`, `45s`, `2w` or bare seconds (`3600`) into seconds.
 * Returns null for anything else, including zero.
 *
 * @example parseDurationSeconds("30d") // 2592000
 */
export function parseDurationSeconds(text: string | number): number | null {
  if (typeof text === "number") return Number.isSafeInteger(text) && text > 0 ? text : null;
  const match = DURATION.exec(text.trim().toLowerCase());
  if (!match) return null;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || "s"] ?? 1);
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
}
