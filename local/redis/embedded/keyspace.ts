import { RedisError } from "./resp";

/** A stored value, by Redis type. Strings are kept as UTF-8 text (sluice stores JSON and numbers). */
export type Value =
  | { type: "string"; v: string }
  | { type: "hash"; v: Map<string, string> }
  | { type: "list"; v: string[] }
  | { type: "set"; v: Set<string> }
  | { type: "zset"; v: Map<string, number> };

type Entry = { value: Value; expiresAt?: number };

const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/** The keyspace of one embedded Redis: values with optional expiry in ms, removed lazily on access. */
export class Keyspace {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number {
    return this.clock();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  get(key: string): Value | undefined {
    return this.live(key)?.value;
  }

  /** The value if it has `type`; undefined if absent; WRONGTYPE otherwise. */
  typed<T extends Value["type"]>(key: string, type: T): Extract<Value, { type: T }> | undefined {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (value.type !== type) throw new RedisError(WRONGTYPE);
    return value as Extract<Value, { type: T }>;
  }

  /** The value of `type`, created empty (and stored) when absent. */
  ensure<T extends Value["type"]>(key: string, type: T, empty: () => Extract<Value, { type: T }>) {
    const found = this.typed(key, type);
    if (found) return found;
    const value = empty();
    this.entries.set(key, { value });
    return value;
  }

  /** Stores `value`; the key's expiry is dropped unless `keepTtl`. */
  set(key: string, value: Value, keepTtl = false): void {
    const expiresAt = keepTtl ? this.live(key)?.expiresAt : undefined;
    this.entries.set(key, { value, expiresAt });
  }

  delete(key: string): boolean {
    return this.live(key) !== undefined && this.entries.delete(key);
  }

  /** Drops a collection that became empty, as Redis does. */
  dropIfEmpty(key: string): void {
    const value = this.get(key);
    if (value === undefined || value.type === "string") return;
    const size = Array.isArray(value.v) ? value.v.length : value.v.size;
    if (size === 0) this.entries.delete(key);
  }

  /** Sets the expiry (ms since the epoch); one in the past deletes the key. False if the key is absent. */
  expireAt(key: string, at: number | undefined): boolean {
    const entry = this.live(key);
    if (!entry) return false;
    if (at !== undefined && at <= this.clock()) this.entries.delete(key);
    else entry.expiresAt = at;
    return true;
  }

  /** Remaining ms: -2 absent, -1 no expiry. */
  pttl(key: string): number {
    const entry = this.live(key);
    if (!entry) return -2;
    return entry.expiresAt === undefined ? -1 : entry.expiresAt - this.clock();
  }

  keys(): string[] {
    return [...this.entries.keys()].filter((key) => this.live(key) !== undefined);
  }

  clear(): void {
    this.entries.clear();
  }
}
