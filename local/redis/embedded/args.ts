import type { Keyspace } from "./keyspace";
import { RedisError, type Reply } from "./resp";

/** One command: Redis's arity (exact when positive, a minimum when negative, the name counted). */
export interface CommandSpec {
  arity: number;
  run(ks: Keyspace, args: string[]): Reply;
}

export const OK: Reply = { status: "OK" };

/** A signed 64-bit integer argument, as Redis parses it (no spaces, no "+", no decimals). */
export function int(text: string | undefined): number {
  if (text === undefined || !/^-?(0|[1-9]\d*)$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new RedisError("ERR value is not an integer or out of range");
  }
  return Number(text);
}

/** A float argument ("inf", "-inf" and "+inf" included). */
export function float(text: string | undefined): number {
  const value =
    text === undefined
      ? Number.NaN
      : /^[+-]?inf$/i.test(text)
        ? Number(text.replace(/inf/i, "Infinity"))
        : Number(text);
  if (text === undefined || text.trim() === "" || Number.isNaN(value))
    throw new RedisError("ERR value is not a valid float");
  return value;
}

/** A float as Redis prints it in replies (INCRBYFLOAT, ZSCORE): shortest round-trip form. */
export function formatFloat(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "inf";
  if (value === Number.NEGATIVE_INFINITY) return "-inf";
  return String(value);
}

export function syntaxError(): RedisError {
  return new RedisError("ERR syntax error");
}

/** Redis-style glob (`*`, `?`, `[...]`, `\x`) for KEYS and SCAN MATCH. */
export function globMatcher(pattern: string): (key: string) => boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "\\" && i + 1 < pattern.length) source += `\\${pattern[++i]}`;
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end === -1) source += "\\[";
      else {
        source += `[${pattern
          .slice(i + 1, end)
          .replace(/^\^/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  const regex = new RegExp(`^${source}$`, "s");
  return (key) => regex.test(key);
}
