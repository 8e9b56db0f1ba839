/** How many of the oldest entries a full cache inspects for expired ones before evicting the least recent. */
const EXPIRED_SWEEP = 8;

export interface CacheStats {
  /** Lookups answered from the cache: no signature check, no I/O. */
  hits: number;
  /** Lookups that had to verify (absent or expired entry). */
  misses: number;
  size: number;
}

/**
 * A bounded LRU of verified values, keyed by token, each valid until a deadline. A Map keeps
 * insertion order, so re-inserting on a hit makes the first entry the least recently used.
 */
export class ExpiringLru<V> {
  readonly #entries = new Map<string, { value: V; validUntilMs: number }>();
  #hits = 0;
  #misses = 0;

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity >= 0))
      throw new TypeError("cache capacity must be >= 0");
  }

  /** The value for `key` if present and still valid at `nowMs`; expired entries are dropped. */
  get(key: string, nowMs: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || nowMs >= entry.validUntilMs) {
      if (entry !== undefined) this.#entries.delete(key);
      this.#misses++;
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#hits++;
    return entry.value;
  }

  /** Stores `value` until `validUntilMs` (Infinity: until evicted), evicting to stay within capacity. */
  set(key: string, value: V, validUntilMs: number, nowMs: number): void {
    if (this.capacity === 0 || nowMs >= validUntilMs) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.capacity) this.#evict(nowMs);
    this.#entries.set(key, { value, validUntilMs });
  }

  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  #evict(nowMs: number): void {
    // Prefer dropping expired entries among the oldest few; bounded so a miss stays O(1).
    let inspected = 0;
    for (const [key, entry] of this.#entries) {
      if (inspected++ >= EXPIRED_SWEEP) break;
      if (nowMs >= entry.validUntilMs) this.#entries.delete(key);
    }
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
