import { badRequest, type GatewayError } from "../errors";
import { isPlainObject } from "../plain-object";

/**
 * Bounds so a caller cannot bloat usage rows: tags are attribution, not storage. Body fields
 * follow OpenAI's own limits (`metadata`: 16 pairs, keys up to 64 characters, values up to 512),
 * so whatever OpenAI accepts passes here too.
 */
const MAX_TAGS = 32;
const MAX_KEY_LENGTH = 64;
const MAX_VALUE_LENGTH = 512;
const MAX_USER_LENGTH = 256;
const MAX_METADATA_PAIRS = 16;
/** Control characters and lone surrogates: jsonb refuses NUL and unpaired surrogates, a row must not. */
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

export const TAGS_HEADER = "x-sluice-tags";

/**
 * Caller attribution for the usage row: OpenAI's `metadata` (string pairs) and `user` from the
 * body, then the `x-sluice-tags` header ("team=search,env=prod", values may be percent-encoded),
 * which wins on a clash because the app sets it deliberately. Null when there is none.
 * Past a bound it throws a 400: `invalid_tags` naming the header, or `invalid_value` naming the
 * body field. Keys live in a Map until the end, and `Object.fromEntries` defines them as own
 * properties, so `__proto__` is stored as a plain key like any other (values are strings: no
 * object ever reaches a prototype).
 * @example callerTags(request.headers, body) // { user: "u-42", team: "search" }
 */
export function callerTags(
  headers: { get(name: string): string | null },
  body: unknown,
): Record<string, string> | null {
  const tags = new Map<string, string>();
  if (isPlainObject(body)) {
    for (const [key, value] of metadataPairs(body.metadata)) tags.set(key, value);
    if (body.user !== undefined && body.user !== null && body.user !== "")
      tags.set("user", userOf(body.user));
  }
  for (const [key, value] of headerTags(headers.get(TAGS_HEADER))) tags.set(key, value);
  if (tags.size > MAX_TAGS)
    throw invalidTags(
      `at most ${MAX_TAGS} tags in all (header, user and metadata together), got ${tags.size}`,
    );
  return tags.size ? Object.fromEntries(tags) : null;
}

/**
 * "k=v,k2=v2" → pairs, percent-decoded; an entry without "=" is a bare flag with an empty value.
 * Unbounded: callerTags checks what it takes from here.
 * @example parseTagHeader("team=search,flag") // [["team", "search"], ["flag", ""]]
 */
export function parseTagHeader(header: string | null): [string, string][] {
  if (!header) return [];
  const pairs: [string, string][] = [];
  for (const entry of header.split(",")) {
    if (!entry.trim()) continue;
    const eq = entry.indexOf("=");
    const key = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? "" : entry.slice(eq + 1);
    pairs.push([decode(key), decode(value)]);
  }
  return pairs;
}

/** The header's tags, bounded; blanks around keys and values are dropped (", env=prod"). */
function headerTags(header: string | null): [string, string][] {
  const pairs = parseTagHeader(header);
  if (pairs.length > MAX_TAGS) throw invalidTags(`at most ${MAX_TAGS} tags, got ${pairs.length}`);
  return pairs.map(([rawKey, rawValue]) => {
    if (UNPRINTABLE.test(rawKey) || UNPRINTABLE.test(rawValue))
      throw invalidTags("tags must not contain control characters");
    const key = rawKey.trim();
    const value = rawValue.trim();
    if (key.length === 0 || key.length > MAX_KEY_LENGTH)
      throw invalidTags(`each tag needs a key of 1 to ${MAX_KEY_LENGTH} characters`);
    if (value.length > MAX_VALUE_LENGTH)
      throw invalidTags(`the value of tag '${key}' is longer than ${MAX_VALUE_LENGTH} characters`);
    return [key, value];
  });
}

/** OpenAI's `metadata`: an object of up to 16 printable string pairs; null or absent is none. */
function metadataPairs(metadata: unknown): [string, string][] {
  if (metadata === undefined || metadata === null) return [];
  if (!isPlainObject(metadata)) throw invalidField("metadata", "must be an object of string values");
  const pairs = Object.entries(metadata);
  if (pairs.length > MAX_METADATA_PAIRS)
    throw invalidField("metadata", `must have at most ${MAX_METADATA_PAIRS} pairs, got ${pairs.length}`);
  return pairs.map(([key, value]) => {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH || UNPRINTABLE.test(key))
      throw invalidField("metadata", `keys must be 1 to ${MAX_KEY_LENGTH} printable characters`);
    const param = `metadata.${key}`;
    if (typeof value !== "string") throw invalidField(param, "must be a string");
    if (value.length > MAX_VALUE_LENGTH)
      throw invalidField(param, `must be at most ${MAX_VALUE_LENGTH} characters`);
    if (UNPRINTABLE.test(value)) throw invalidField(param, "must not contain control characters");
    return [key, value];
  });
}

/** OpenAI's `user` (Anthropic's `metadata.user_id` arrives here translated). */
function userOf(user: unknown): string {
  if (typeof user !== "string") throw invalidField("user", "must be a string");
  if (user.length > MAX_USER_LENGTH)
    throw invalidField("user", `must be at most ${MAX_USER_LENGTH} characters`);
  if (UNPRINTABLE.test(user)) throw invalidField("user", "must not contain control characters");
  return user;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const invalidTags = (reason: string): GatewayError =>
  badRequest(`Invalid '${TAGS_HEADER}' header: ${reason}.`, TAGS_HEADER, "invalid_tags");

const invalidField = (param: string, reason: string): GatewayError =>
  badRequest(`Invalid value for '${param}': ${reason}.`, param, "invalid_value");
