/** Longest label value kept; longer ones are cut (model names are caller-influenced). */
const MAX_LABEL_VALUE = 128;

/**
 * One label value as the Prometheus text format wants it: backslash, double quote and line feed
 * escaped, other control characters dropped, cut to a bounded length.
 * @example escapeLabelValue('a"b') // 'a\\"b'
 */
export function escapeLabelValue(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
  const clean = value.slice(0, MAX_LABEL_VALUE).replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, "");
  return clean.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * The body of a label set, `name="value",...`, in the given order, values escaped.
 * @example labelBody([["route", "chat"], ["model", "gpt-4o"]]) // 'route="chat",model="gpt-4o"'
 */
export function labelBody(labels: readonly (readonly [string, string])[]): string {
  let body = "";
  for (const [name, value] of labels) {
    body += `${body === "" ? "" : ","}${name}="${escapeLabelValue(value)}"`;
  }
  return body;
}

/**
 * An error code as a label value: codes come from upstream bodies too, so only a bounded
 * `[a-z0-9_]` form is kept.
 * @example errorKind("rate_limit_exceeded", 429) // "rate_limit_exceeded"
 */
export function errorKind(code: string | null, status: number): string {
  const kind = (code ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .slice(0, 48);
  return kind === "" || kind === "_" ? `http_${status}` : kind;
}

/** "2xx", "4xx", "5xx" for a status. */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;
