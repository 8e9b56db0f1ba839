import type { Scope } from "./keys";

/** What one scope (a key or a tenant) had left, as the last admission reply showed it. */
interface Snapshot {
  /** The gate's clock when the admission that produced it was sent. */
  seenAt: number;
  requests: number;
  tokens: number;
  micros: number;
  slots: number;
}

/** One limit's room after a granted admission; a dimension without a limit is never listed. */
export interface Room {
  scope: Scope;
  dimension: "requests" | "tokens" | "micros" | "slots";
  remaining: number;
}

/** What a request would take from each dimension. */
export interface Need {
  tokens: number;
  micros: number;
}

/** Entries kept at most; past it the oldest snapshot goes (insertion order). */
const MAX_ENTRIES = 10_000;

const scopeKey = (scope: Scope): string => `${scope.kind}\u0000${scope.id}`;

/**
 * Per-isolate memory of the headroom the limits store last reported for each key and tenant:
 * whether a request may be sent upstream while its limits round trip is still in flight
 * (speculative admission). Only a recent, ample picture qualifies: every remaining request,
 * token and micro-dollar at least `factor` times what this request takes (and a free concurrency
 * slot), for the key and for its tenant, seen less than `maxAgeMs` ago. Each admission debits the picture
 * until the next reply replaces it, so a burst from one isolate cannot run past it; other
 * isolates' use is what the factor covers. Keys are `Map` keys, so hostile ids are just strings.
 * @example if (memory.ample(now, keyScope, tenantScope, { tokens: 500, micros: 900 })) dispatchNow()
 */
export class HeadroomMemory {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(
    private readonly factor: number,
    private readonly maxAgeMs: number,
  ) {}

  /** True when both the key's and the tenant's last picture are fresh and ample for `need`. */
  ample(now: number, key: Scope, tenant: Scope, need: Need): boolean {
    return this.fits(now, key, need) && this.fits(now, tenant, need);
  }

  /** Takes a request's need from the pictures of its key and tenant (the store does the same). */
  debit(key: Scope, tenant: Scope, need: Need): void {
    for (const scope of [key, tenant]) {
      const snapshot = this.snapshots.get(scopeKey(scope));
      if (!snapshot) continue;
      snapshot.requests -= 1;
      snapshot.tokens -= need.tokens;
      snapshot.micros -= need.micros;
      snapshot.slots -= 1;
    }
  }

  /**
   * Replaces the pictures of the key and tenant with a granted admission's reply (`rooms`),
   * unless a later admission's reply already did.
   */
  observe(seenAt: number, key: Scope, tenant: Scope, rooms: readonly Room[]): void {
    for (const scope of [key, tenant]) {
      const id = scopeKey(scope);
      const previous = this.snapshots.get(id);
      if (previous && previous.seenAt > seenAt) continue;
      const snapshot: Snapshot = {
        seenAt,
        requests: Infinity,
        tokens: Infinity,
        micros: Infinity,
        slots: Infinity,
      };
      for (const room of rooms) {
        if (room.scope.kind !== scope.kind || room.scope.id !== scope.id) continue;
        snapshot[room.dimension] = Math.min(snapshot[room.dimension], room.remaining);
      }
      this.store(id, snapshot);
    }
  }

  /** Forgets the key's and tenant's pictures: a refusal or an unreachable store says nothing ample. */
  forget(key: Scope, tenant: Scope): void {
    this.snapshots.delete(scopeKey(key));
    this.snapshots.delete(scopeKey(tenant));
  }

  private fits(now: number, scope: Scope, need: Need): boolean {
    const snapshot = this.snapshots.get(scopeKey(scope));
    if (!snapshot || now - snapshot.seenAt >= this.maxAgeMs || now < snapshot.seenAt) return false;
    // At least one unit left in every dimension: an exhausted budget refuses even unpriced work.
    const enough = (remaining: number, taken: number) => remaining >= Math.max(1, this.factor * taken);
    return (
      enough(snapshot.requests, 1) &&
      enough(snapshot.tokens, need.tokens) &&
      enough(snapshot.micros, need.micros) &&
      // A free slot, not ten: concurrency limits are small, and each dispatch here debits one.
      snapshot.slots >= 1
    );
  }

  private store(id: string, snapshot: Snapshot): void {
    this.snapshots.delete(id);
    if (this.snapshots.size >= MAX_ENTRIES) {
      const oldest = this.snapshots.keys().next();
      if (!oldest.done) this.snapshots.delete(oldest.value);
    }
    this.snapshots.set(id, snapshot);
  }
}
