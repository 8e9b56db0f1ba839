import { ownValue, type RouteConfig, type TargetConfig } from "../config";
import { targetKey } from "./targets";

/** A route by its name (the model name callers send). */
export interface NamedRoute {
  name: string;
  route: RouteConfig;
}

/** The route that serves a request, and the route it was downgraded from (null: not downgraded). */
export interface RouteChoice extends NamedRoute {
  downgradedFrom: string | null;
}

/**
 * The routes a request to `start` may end up on: itself, then each `downgrade_to` in turn. Config
 * load refuses unknown names and cycles; the seen-set only keeps a bad config from looping here.
 * @example downgradeChain(config.routes, { name: "gpt-4.1", route })
 */
export function downgradeChain(routes: Record<string, RouteConfig>, start: NamedRoute): NamedRoute[] {
  const chain = [start];
  const seen = new Set([start.name]);
  let next = start.route.downgrade_to;
  while (next !== undefined && !seen.has(next)) {
    const route = ownValue(routes, next);
    if (!route) break;
    chain.push({ name: next, route });
    seen.add(next);
    next = route.downgrade_to;
  }
  return chain;
}

/**
 * The route that serves: down the chain while the caller's budget spend share (see the gate's
 * `spendShare`) has reached the current route's `downgrade_at`. No share known (no budget, or the
 * limits store unreachable): no downgrade.
 * @example chooseRoute(chain, admission.spendShare).downgradedFrom // "gpt-4.1" past 80% of the budget
 */
export function chooseRoute(chain: NamedRoute[], spendShare: number | null): RouteChoice {
  let i = 0;
  while (i + 1 < chain.length && spendShare !== null) {
    const at = chain[i]?.route.downgrade_at;
    if (at === undefined || spendShare < at) break;
    i++;
  }
  const chosen = chain[i] as NamedRoute;
  return { ...chosen, downgradedFrom: i === 0 ? null : (chain[0] as NamedRoute).name };
}

/**
 * Every target the chain's routes may try, each once: the reservation is made at the dearest of
 * them (a downgrade can only make the real cost lower than reserved) and their shared state is
 * read in the gate's round trip.
 */
export function chainTargets(chain: NamedRoute[]): TargetConfig[] {
  const byKey = new Map<string, TargetConfig>();
  for (const { route } of chain) {
    for (const target of route.targets)
      if (!byKey.has(targetKey(target))) byKey.set(targetKey(target), target);
  }
  return [...byKey.values()];
}
