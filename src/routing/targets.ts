import type { RouteConfig, TargetConfig } from "../config";

/**
 * The order in which a route's targets are tried: `fallback` keeps the configured order;
 * `loadbalance` picks the first by weight, then falls back through the rest in order.
 * @example orderTargets(route, Math.random)[0].provider
 */
export function orderTargets(route: RouteConfig, random: () => number = Math.random): TargetConfig[] {
  if (route.strategy === "fallback" || route.targets.length < 2) return route.targets;
  const first = weightedPick(route.targets, random());
  return [first, ...route.targets.filter((t) => t !== first)];
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
