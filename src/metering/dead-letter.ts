import type { Redis } from "@upstash/redis/cloudflare";
import { rowToJson, type UsageRow } from "./row";

/** Rows no insert accepts, kept aside for an operator instead of blocking a batch or the spool. */
export const DEAD_LETTER_KEY = "sluice:usage:spool:dead";
/** Redis must stay bounded: past this many entries new dead letters are refused (and logged). */
export const DEAD_LETTER_MAX_ENTRIES = 10_000;
/** An entry that was not a row at all is kept as text, cut to this many characters. */
const MAX_RAW_CHARS = 2_000;

/** One dead letter, stored as JSON text. */
export interface DeadLetter {
  /** The row as spooled (createdAt as ISO text), or the raw text of an entry that was not a row. */
  row: unknown;
  /** Why it was set aside: SQLSTATE and Postgres' message, or what was wrong with the entry. */
  reason: string;
  /** When it was set aside (ISO 8601). */
  at: string;
}

/**
 * Appends only while the list has room (KEYS[1], bound ARGV[1], values ARGV[2..]), so Redis stays
 * bounded and a flusher's view of the list head never moves. Returns how many were appended.
 */
export const BOUNDED_PUSH = `
local room = tonumber(ARGV[1]) - redis.call('LLEN', KEYS[1])
local n = math.min(math.max(room, 0), #ARGV - 1)
for i = 2, n + 1 do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return n`;

/**
 * The dead-letter entry for a row (or for raw spool text that was not a row), as JSON text.
 * @example deadLetter(row, "22021: invalid byte sequence for encoding \"UTF8\": 0x00", new Date())
 */
export function deadLetter(row: UsageRow | string, reason: string, at: Date): string {
  const value = typeof row === "string" ? row.slice(0, MAX_RAW_CHARS) : rowToJson(row);
  return JSON.stringify({ row: value, reason, at: at.toISOString() } satisfies DeadLetter);
}

/**
 * Appends dead letters (from `deadLetter`) within the bound; returns how many did not fit.
 * @example const lost = await pushDeadLetters(redis, [deadLetter(row, reason, new Date())])
 */
export async function pushDeadLetters(
  redis: Pick<Redis, "eval">,
  letters: readonly string[],
): Promise<number> {
  if (!letters.length) return 0;
  const appended = Number(
    await redis.eval(BOUNDED_PUSH, [DEAD_LETTER_KEY], [String(DEAD_LETTER_MAX_ENTRIES), ...letters]),
  );
  return letters.length - appended;
}
