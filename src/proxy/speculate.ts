import type { Context } from "hono";
import type { RouteConfig, TargetConfig } from "../config";
import type { AppEnv } from "../context";
import type { RequestMeter } from "../metering";
import { orderTargets, targetKey } from "../routing";
import type { MeteredCall, OnRefused } from "./admit";
import { type Attempted, attemptTargets } from "./attempt";
import type { ProxyRequest } from "./request";
import type { RoutePlan } from "./route-plan";
import type { ServerTiming } from "./timing";

/** An attempt started before its admission was decided, and the targets it runs over. */
export interface Dispatched {
  attempting: Promise<Attempted>;
  route: RouteConfig;
  targets: TargetConfig[];
}

/**
 * Speculative admission, the proxy's half (the gate keeps the headroom memory): once the
 * request's worst case is known, if this isolate's last limits answers show ample headroom for its
 * key and tenant, the upstream call starts at once, beside the limits round trip instead of after
 * it. Nothing reaches the client before the decision: the handler awaits the admission first.
 * Refused, the call is aborted (no retry, no fallback), any answer already in is dropped, and the
 * usage row says what was dispatched (a refusal with its attempts and provider; zero tokens and
 * cost: the caller is never charged for a refusal, and what the provider may bill for an aborted
 * call is the operator's, see README "Speculative admission").
 * @example const speculation = speculationFor(c, timing, request, route, plan); await admitRequest(..., speculation?.dispatch)
 */
export class Speculation {
  /** The attempt under way, once `dispatch` started one. */
  dispatched: Dispatched | null = null;

  /** Made only when a call is dispatched: most requests never need one. */
  private controller: AbortController | null = null;
  private abandoning: Promise<void> | null = null;
  private routingEnd: (() => void) | null = null;

  constructor(
    private readonly c: Context<AppEnv>,
    private readonly timing: ServerTiming,
    private readonly request: ProxyRequest,
    private readonly route: RouteConfig,
  ) {}

  /**
   * admitRequest's hook, called with the call as the gate will see it, before the gate is asked:
   * starts the attempt when the headroom is ample, and returns the refusal's clean-up; else null.
   */
  dispatch = (call: MeteredCall, targetCosts: ReadonlyMap<string, number | null>): OnRefused | null => {
    const services = this.c.get("services");
    const ample = services.gate.ample({
      caller: this.c.get("caller"),
      estimatedTokens: call.estimatedTokens,
      worstCaseMicros: call.worstCaseMicros,
      worstCaseBilledMicros: call.worstCaseBilledMicros,
    });
    if (!ample) return null;
    // Ordered as serveRoute orders an admitted request's targets (a single route: no downgrade).
    const targets = orderTargets(this.route, services.random, {
      cost: (t) => targetCosts.get(targetKey(t)) ?? null,
      latency: services.latency,
    });
    const routing = this.timing.start("routing");
    this.routingEnd = () => routing.end();
    this.controller = new AbortController();
    const attempting = attemptTargets(this.c, this.request, this.route, targets, this.controller.signal);
    this.dispatched = { attempting, route: this.route, targets };
    return (record) => this.abandon(record);
  };

  /** The admission was granted: the attempt's result, as a decided request's would be. */
  async attempted(): Promise<Attempted | null> {
    if (!this.dispatched) return null;
    const attempted = await this.dispatched.attempting;
    this.routingEnd?.();
    return attempted;
  }

  /**
   * The admission was refused (or failed): aborts the upstream call and drops what it answered
   * (a stream opened is cancelled unread); the record names the target it went to. Idempotent.
   */
  abandon(record?: RequestMeter): Promise<void> {
    const dispatched = this.dispatched;
    if (!dispatched) return Promise.resolve();
    this.abandoning ??= (async () => {
      this.controller?.abort();
      const attempted = await dispatched.attempting.catch(() => null);
      this.routingEnd?.();
      if (attempted?.ok && attempted.value.kind === "stream")
        await attempted.value.body.cancel().catch(() => {});
      if (attempted?.target)
        record?.setTarget(attempted.target.provider, attempted.target.model, attempted.attempts);
    })();
    return this.abandoning;
  }
}

/**
 * The request's speculation, or null where it must decide first: speculation off in config, a
 * route with the response cache (a hit must never cost an upstream call), or one that a budget
 * may downgrade (the route is chosen from the admission's answer).
 * @example const speculation = speculationFor(c, timing, request, route, plan)
 */
export function speculationFor(
  c: Context<AppEnv>,
  timing: ServerTiming,
  request: ProxyRequest,
  route: RouteConfig,
  plan: RoutePlan,
): Speculation | null {
  const config = c.get("services").config;
  if (!config.speculative_admission.enabled || route.cache || plan.chain.length !== 1) return null;
  return new Speculation(c, timing, request, route);
}
