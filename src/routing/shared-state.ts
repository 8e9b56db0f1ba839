import type { TargetConfig } from "../config";
import { breakerRedisKey, type CircuitBreakers } from "./breaker";
import type { NamedRoute } from "./downgrade";
import { type LatencyTracker, latencyRedisKey } from "./latency";
import { targetKey } from "./targets";

/** The shared routing state one request reads in the gate's round trip, and how to apply it. */
export interface SharedStateRead {
  /** Redis keys to read (the gate's `breakerKeys`): every candidate's breaker, then latencies. */
  keys: string[];
  /** Applies the values read for `keys` (same order) to the isolate's breakers and latencies. */
  apply(values: readonly (string | null)[]): void;
}

/**
 * What a request reads of the state other isolates share: every candidate target's breaker
 * opening, and the latency estimates of targets in a `fastest` route. Both ride the gate's one
 * round trip (no read of their own), as they are written with its settlement batches.
 * @example const shared = sharedStateRead(chain, targets, services); gate.admit({ ..., breakerKeys: shared.keys })
 */
export function sharedStateRead(
  chain: NamedRoute[],
  targets: TargetConfig[],
  isolate: { breakers: CircuitBreakers; latency: LatencyTracker },
): SharedStateRead {
  const names = targets.map(targetKey);
  const timed = new Set<string>();
  for (const { route } of chain)
    if (route.strategy === "fastest") for (const t of route.targets) timed.add(targetKey(t));
  const latencyNames = names.filter((name) => timed.has(name));
  return {
    keys: [...names.map(breakerRedisKey), ...latencyNames.map(latencyRedisKey)],
    apply(values) {
      names.forEach((name, i) => {
        isolate.breakers.applyShared(name, values[i] ?? null);
      });
      latencyNames.forEach((name, i) => {
        isolate.latency.applyShared(name, values[names.length + i] ?? null);
      });
    },
  };
}
