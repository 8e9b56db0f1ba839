export { type BreakerTransition, breakerRedisKey, CircuitBreakers } from "./breaker";
export {
  type AttemptFailure,
  type AttemptOutcome,
  type FallbackOptions,
  type FallbackResult,
  runWithFallback,
} from "./execute";
export { classifyStatus, type FailureKind, parseRetryAfter } from "./retry";
export { orderTargets, targetKey } from "./targets";
