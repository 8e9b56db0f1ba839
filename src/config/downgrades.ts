import type { z } from "zod";
import { ownValue } from "./lookup";

interface DowngradingRoute {
  downgrade_at?: number;
  downgrade_to?: string;
}

/**
 * Checks the routes' budget downgrades at config load: `downgrade_at` and `downgrade_to` come
 * together, the target route exists (own names only), and following downgrades never comes back
 * to a route already passed (a cycle would send a request round forever).
 * @example ConfigSchema.superRefine((config, ctx) => checkDowngrades(config.routes, ctx))
 */
export function checkDowngrades(routes: Record<string, DowngradingRoute>, ctx: z.RefinementCtx): void {
  for (const [name, route] of Object.entries(routes)) {
    const path = ["routes", name];
    if ((route.downgrade_at === undefined) !== (route.downgrade_to === undefined)) {
      ctx.addIssue({ code: "custom", path, message: "set downgrade_at and downgrade_to together" });
      continue;
    }
    if (route.downgrade_to === undefined) continue;
    if (ownValue(routes, route.downgrade_to) === undefined) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "downgrade_to"],
        message: `unknown route "${route.downgrade_to}"`,
      });
      continue;
    }
    const cycle = downgradeCycle(routes, name);
    if (cycle) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "downgrade_to"],
        message: `downgrades form a cycle: ${cycle.join(" -> ")}`,
      });
    }
  }
}

/** The chain from `start` back to a route already passed, or null when it ends. */
function downgradeCycle(routes: Record<string, DowngradingRoute>, start: string): string[] | null {
  const seen: string[] = [start];
  let next = ownValue(routes, start)?.downgrade_to;
  while (next !== undefined) {
    seen.push(next);
    if (seen.indexOf(next) < seen.length - 1) return seen;
    next = ownValue(routes, next)?.downgrade_to;
  }
  return null;
}
