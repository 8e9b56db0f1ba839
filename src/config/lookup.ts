/**
 * Looks a name up in a plain record by OWN property only. Records parsed from JSON (routes, plans,
 * providers, tenant limits) inherit from Object.prototype, so `record["constructor"]` or
 * `"toString" in record` would find a function where a caller's name should find nothing.
 * Every lookup by a name a caller (or a key it holds) supplies goes through here.
 * @example ownValue(config.routes, model) ?? notFound()
 */
export function ownValue<V>(record: Readonly<Record<string, V>>, name: string): V | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}
