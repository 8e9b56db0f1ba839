import type { Context } from "hono";
import type { RouteConfig, TargetConfig } from "../config";
import type { AppEnv } from "../context";
import {
  chainTargets,
  chooseRoute,
  downgradeChain,
  type NamedRoute,
  orderTargets,
  type SharedStateRead,
  sharedStateRead,
  targetKey,
} from "../routing";
import type { Admitted } from "./admit";

/** What a request may be routed to, known before the gate: its route, its downgrades, their targets. */
export interface RoutePlan {
  chain: NamedRoute[];
  /** Every target of the chain, once: reserved at the dearest, their shared state read. */
  candidates: TargetConfig[];
  shared: SharedStateRead;
}

/**
 * Plans a request to the route named `name`: the budget downgrades it may take (`downgrade_to`)
 * and the shared state (breakers, latencies) to read with the gate's round trip.
 * @example const plan = planRoute(c, body.model, route); await admitRequest(c, timing, request, route, plan)
 */
export function planRoute(c: Context<AppEnv>, name: string, route: RouteConfig): RoutePlan {
  const services = c.get("services");
  const chain = downgradeChain(services.config.routes, { name, route });
  const candidates = chainTargets(chain);
  return { chain, candidates, shared: sharedStateRead(chain, candidates, services) };
}

/** The route that serves an admitted request, its targets in order, and the admission as served. */
export interface Served {
  route: RouteConfig;
  targets: TargetConfig[];
  /** The route the caller named, when a budget downgrade served another; else null. */
  downgradedFrom: string | null;
  admitted: Admitted;
}

/**
 * After the gate: the route the caller's budget spend share leads to (`downgrade_at`), named in
 * `x-sluice-downgraded-from` when it is not the one asked for, and its targets ordered by its
 * strategy (price from the reservation's own estimate, latency from the isolate's averages).
 * A downgraded answer is never stored in the response cache: it would answer for the dearer route.
 * @example const served = serveRoute(c, plan, admitted); await attemptTargets(c, request, served.route, served.targets)
 */
export function serveRoute(c: Context<AppEnv>, plan: RoutePlan, admitted: Admitted): Served {
  const services = c.get("services");
  const chosen = chooseRoute(plan.chain, admitted.admission.spendShare);
  const targets = orderTargets(chosen.route, services.random, {
    cost: (t) => admitted.targetCosts.get(targetKey(t)) ?? null,
    latency: services.latency,
  });
  if (!chosen.downgradedFrom) return { route: chosen.route, targets, downgradedFrom: null, admitted };
  c.header("x-sluice-downgraded-from", chosen.downgradedFrom);
  if (admitted.cache) c.header("x-sluice-cache", "BYPASS");
  return {
    route: chosen.route,
    targets,
    downgradedFrom: chosen.downgradedFrom,
    admitted: { ...admitted, cache: null },
  };
}
