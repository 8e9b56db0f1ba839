import type { GatewayError } from "../errors";
import type { Need } from "./headroom";
import type { Scope } from "./keys";

/**
 * A refusal worth remembering: a limit that will not let this scope through before `until`
 * (a request rate spent for its window, tokens for the minute, a budget for its period).
 */
export interface Remembered {
  scope: Scope;
  /** Gate clock (ms) when the limit lets requests through again. */
  until: number;
  /** Tokens and dollars: a settlement gives reserved room back, so one in this isolate ends the memory. */
  freedBySettlement: boolean;
  /** Whether a request needing `need` would be refused too (a smaller one may still fit in tokens). */
  refuses(need: Need): boolean;
  /** The refusal to answer with, `resetMs` before `until`. */
  error(resetMs: number, headers: Record<string, string>, need: Need): GatewayError;
}

interface Entry {
  remembered: Remembered;
  headers: Record<string, string>;
}

/**
 * The longest a refusal is remembered. Reservations in flight settle to their real (lower) use
 * and give room back before a budget's period ends, so a day's refusal is kept a minute at most.
 */
const MAX_MEMORY_MS = 60_000;
/** Entries kept at most; past it the oldest goes (insertion order). */
const MAX_ENTRIES = 10_000;

const scopeKey = (scope: Scope): string => `${scope.kind}\u0000${scope.id}`;

/**
 * Per-isolate memory of recent refusals, as @upstash/ratelimit's ephemeral cache keeps blocked
 * identifiers: a key (or tenant) refused for a limit with a reset time is refused again from
 * memory until then, with no Redis round trip and no upstream call. Bounded in size and in time.
 * @example const hit = refusals.check(now, [keyScope, tenantScope], need); if (hit) return refusedFromMemory(hit)
 */
export class RefusalMemory {
  private readonly entries = new Map<string, Entry>();

  /** Remembers refusals of one admission (its x-ratelimit headers go out again with them). */
  remember(now: number, refusals: readonly Remembered[], headers: Record<string, string>): void {
    for (const remembered of refusals) {
      const until = Math.min(remembered.until, now + MAX_MEMORY_MS);
      if (until <= now) continue;
      const id = scopeKey(remembered.scope);
      this.entries.delete(id);
      if (this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(id, { remembered: { ...remembered, until }, headers });
    }
  }

  /** The remembered refusal of the first scope that still refuses `need`, or null. */
  check(now: number, scopes: readonly Scope[], need: Need): GatewayError | null {
    for (const scope of scopes) {
      const id = scopeKey(scope);
      const entry = this.entries.get(id);
      if (!entry) continue;
      const { remembered, headers } = entry;
      if (now >= remembered.until) {
        this.entries.delete(id);
        continue;
      }
      if (remembered.refuses(need)) return remembered.error(remembered.until - now, headers, need);
    }
    return null;
  }

  /** Forgets the refusals a settlement may have lifted (tokens, budgets) for these scopes. */
  release(scopes: readonly Scope[]): void {
    for (const scope of scopes) {
      const id = scopeKey(scope);
      if (this.entries.get(id)?.remembered.freedBySettlement) this.entries.delete(id);
    }
  }

  /** True when some scope is remembered as refused (whatever it would take). */
  holds(now: number, scopes: readonly Scope[]): boolean {
    return scopes.some((scope) => {
      const entry = this.entries.get(scopeKey(scope));
      return entry !== undefined && now < entry.remembered.until;
    });
  }
}
