/**
 * A plain JSON object: not null, not an array. Checked before reading fields of parsed JSON.
 * @example isPlainObject(JSON.parse('{"a":1}')) // true; isPlainObject([]) // false
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
