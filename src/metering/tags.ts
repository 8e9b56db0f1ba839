/** Bounds so a caller cannot bloat usage rows: tags are attribution, not storage. */
const MAX_TAGS = 32;
const MAX_KEY_LENGTH = 64;
const MAX_VALUE_LENGTH = 256;

export const TAGS_HEADER = "x-sluice-tags";

/**
 * Caller attribution for the usage row: OpenAI's `metadata` (string pairs) and `user` from the
 * body, then the `x-sluice-tags` header ("team=search,env=prod", values may be percent-encoded),
 * which wins on a clash because the app sets it deliberately. Null when there is none.
 * @example callerTags(request.headers, body) // { user: "u-42", team: "search" }
 */
export function callerTags(
  headers: { get(name: string): string | null },
  body: unknown,
): Record<string, string> | null {
  const tags = new Map<string, string>();
  const put = (key: string, value: string) => {
    const k = key.trim();
    if (!k || k.length > MAX_KEY_LENGTH || (tags.size >= MAX_TAGS && !tags.has(k))) return;
    tags.set(k, value.trim().slice(0, MAX_VALUE_LENGTH));
  };

  if (isObject(body)) {
    if (isObject(body.metadata)) {
      for (const [key, value] of Object.entries(body.metadata))
        if (typeof value === "string") put(key, value);
    }
    if (typeof body.user === "string" && body.user) put("user", body.user);
  }
  for (const [key, value] of parseTagHeader(headers.get(TAGS_HEADER))) put(key, value);

  return tags.size ? Object.fromEntries(tags) : null;
}

/** "k=v,k2=v2" → pairs; an entry without "=" is a bare flag with an empty value. */
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

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
