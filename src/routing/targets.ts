import type { RouteConfig, TargetConfig } from "../config";
import type { LatencyTracker } from "./latency";

/** What the price- and latency-driven strategies order by; absent, they keep the configured order. */
export interface OrderSignals {
  /** `cheapest`: the target's cost for this request's estimate (micro-dollars); null when unpriced. */
  cost?: (target: TargetConfig) => number | null;
  /** `fastest`: recent latency per target. */
  latency?: LatencyTracker;
}

/**
 * The order in which a route's targets are tried: `fallback` keeps the configured order;
 * `loadbalance` picks the first by weight; `cheapest` puts the lowest effective price first
 * (unpriced targets last); `fastest` the lowest recent latency (an unmeasured target first, and
 * `explore_ratio` of requests the least recently measured one, so none starves). The rest follow
 * as fallbacks; a target whose breaker is open is skipped when its turn comes.
 * @example orderTargets(route, Math.random)[0].provider
 */
export function orderTargets(
  route: RouteConfig,
  random: () => number = Math.random,
  signals: OrderSignals = {},
): TargetConfig[] {
  if (route.targets.length < 2) return route.targets;
  if (route.strategy === "loadbalance") return first(route.targets, weightedPick(route.targets, random()));
  if (route.strategy === "cheapest" && signals.cost) return cheapestFirst(route.targets, signals.cost);
  if (route.strategy === "fastest" && signals.latency)
    return fastestFirst(route.targets, signals.latency, route.explore_ratio, random);
  return route.targets;
}

/** Ascending by cost, unpriced last; equal costs keep the configured order (the sort is stable). */
function cheapestFirst(targets: TargetConfig[], cost: (t: TargetConfig) => number | null): TargetConfig[] {
  const costs = new Map(targets.map((t) => [t, cost(t) ?? Number.POSITIVE_INFINITY]));
  return [...targets].sort((a, b) => (costs.get(a) as number) - (costs.get(b) as number));
}

/** Ascending by latency estimate; an unmeasured target, or an exploring request's pick, goes first. */
function fastestFirst(
  targets: TargetConfig[],
  latency: LatencyTracker,
  exploreRatio: number,
  random: () => number,
): TargetConfig[] {
  const estimates = new Map(targets.map((t) => [t, latency.estimate(targetKey(t))]));
  const unmeasured = targets.find((t) => estimates.get(t) === null);
  if (unmeasured) return first(targets, unmeasured);
  const byLatency = [...targets].sort((a, b) => (estimates.get(a) as number) - (estimates.get(b) as number));
  if (exploreRatio > 0 && random() < exploreRatio) {
    // The least recently measured of the others: the one whose estimate is most likely out of date.
    const stalest = byLatency
      .slice(1)
      .reduce((a, b) => (latency.sampledAt(targetKey(b)) < latency.sampledAt(targetKey(a)) ? b : a));
    return first(byLatency, stalest);
  }
  return byLatency;
}

/** `target` first, the others after it in their order. */
function first(targets: TargetConfig[], target: TargetConfig): TargetConfig[] {
  return [target, ...targets.filter((t) => t !== target)];
}

function weightedPick(targets: TargetConfig[], roll: number): TargetConfig {
  const total = targets.reduce((sum, t) => sum + t.weight, 0);
  let point = roll * total;
  for (const target of targets) {
    point -= target.weight;
    if (point < 0) return target;
  }
  return targets[targets.length - 1] as TargetConfig;
}

/** The key that names a target in the breaker and in logs: `provider/model`. */
export const targetKey = (target: Pick<TargetConfig, "provider" | "model">): string =>
  `${target.provider}/${target.model}`;
