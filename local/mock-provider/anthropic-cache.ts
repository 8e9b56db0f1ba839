/**
 * Anthropic prompt caching, as the real API behaves for what a gateway can get wrong: the request
 * is read in cache order (tools, system, messages), each `cache_control` block ends a cacheable
 * prefix, the longest prefix already cached (within its TTL) is a cache read, and the rest up to
 * the last breakpoint is a cache write, at that breakpoint's TTL (`5m` default, or `1h`). Every
 * prefix written or read is (re)cached. Tokens are the mock's word counts.
 */

import { createHash } from "node:crypto";
import { textOfContent } from "./reply";
import { countMockTokens } from "./text";

/** Prompt tokens read from and written to the cache by one request. */
export interface CacheUse {
  read: number;
  write: number;
  /** The part of `write` written with the 1-hour TTL. */
  write1h: number;
}

const TTL_MS = { "5m": 5 * 60_000, "1h": 60 * 60_000 } as const;
/** Entries kept at most: the oldest go first. */
const MAX_ENTRIES = 10_000;
/** Prefix hash → expiry time (ms since the epoch). */
const cache = new Map<string, number>();

interface Breakpoint {
  key: string;
  tokens: number;
  ttl: keyof typeof TTL_MS;
}

/**
 * What caching does for this request, and the cache updated as the real API would.
 * @example cacheUse(body) // { read: 0, write: 1200, write1h: 0 }, then { read: 1200, ... } on a repeat
 */
export function cacheUse(body: Record<string, unknown>, now = Date.now()): CacheUse {
  const points = breakpoints(body);
  let read = 0;
  for (const point of points) if ((cache.get(point.key) ?? 0) > now) read = Math.max(read, point.tokens);
  let write = 0;
  let write1h = 0;
  let covered = read;
  for (const point of points) {
    if (point.tokens > covered) {
      const tokens = point.tokens - covered;
      write += tokens;
      if (point.ttl === "1h") write1h += tokens;
      covered = point.tokens;
    }
    remember(point.key, now + TTL_MS[point.ttl]);
  }
  return { read, write, write1h };
}

/** The prefixes a request marks: a hash of everything up to each cache_control block, and its size. */
function breakpoints(body: Record<string, unknown>): Breakpoint[] {
  const hash = createHash("sha256").update(String(body.model ?? ""));
  const points: Breakpoint[] = [];
  let tokens = 0;
  for (const segment of segments(body)) {
    const { cache_control: marker, ...rest } = segment;
    hash.update(JSON.stringify(rest));
    tokens += countMockTokens(textOfContent(rest).join(" ") || JSON.stringify(rest));
    if (marker && typeof marker === "object") {
      const ttl = (marker as { ttl?: unknown }).ttl === "1h" ? "1h" : "5m";
      points.push({ key: hash.copy().digest("hex"), tokens, ttl });
    }
  }
  return points;
}

/** Tools, system blocks, then each message's blocks, in the order Anthropic caches them. */
function segments(body: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const add = (value: unknown) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      out.push(value as Record<string, unknown>);
    else if (typeof value === "string") out.push({ type: "text", text: value });
  };
  if (Array.isArray(body.tools)) body.tools.forEach(add);
  if (Array.isArray(body.system)) body.system.forEach(add);
  else add(body.system);
  for (const message of Array.isArray(body.messages) ? body.messages : []) {
    const content = (message as { content?: unknown }).content;
    if (Array.isArray(content)) content.forEach(add);
    else add(content);
  }
  return out;
}

function remember(key: string, expires: number): void {
  cache.delete(key);
  cache.set(key, expires);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
}
