import { ownValue } from "./lookup";
import type { Config, Limits } from "./schema";

/**
 * The plan a caller is on: its own plan when the config defines it, else `default_plan`. A plan
 * the config does not define (renamed, or a name like "toString") gets the default plan, never none.
 * @example planLimits(config, caller.plan).rpm
 */
export function planLimits(config: Config, plan: string | null): Limits {
  return (
    ownValue(config.plans, plan ?? config.default_plan) ?? ownValue(config.plans, config.default_plan) ?? {}
  );
}
