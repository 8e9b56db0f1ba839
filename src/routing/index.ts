export { type BreakerTransition, breakerRedisKey, CircuitBreakers } from "./breaker";
export { chainTargets, chooseRoute, downgradeChain, type NamedRoute, type RouteChoice } from "./downgrade";
export {
  type AttemptFailure,
  type AttemptOutcome,
  type FallbackOptions,
  type FallbackResult,
  runWithFallback,
} from "./execute";
export { LatencyTracker, latencyRedisKey } from "./latency";
export { createLatencyPublisher, LATENCY_SCRIPT } from "./latency-publish";
export { classifyStatus, type FailureKind, parseRetryAfter } from "./retry";
export { type SharedStateRead, sharedStateRead } from "./shared-state";
export { type OrderSignals, orderTargets, targetKey } from "./targets";
