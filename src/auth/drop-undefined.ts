/**
 * A copy without the keys whose value is undefined, so optional claims stay out of the JSON.
 * @example dropUndefined({ sub: "acme", name: undefined }) // { sub: "acme" }
 */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
