/**
 * Limits and budgets on Upstash Redis: one round trip before the upstream call decides
 * revocation, request and token rates, dollar budgets and concurrency (see createGate).
 */

export { tenantSuspended } from "./denials";
export { createGate, type GateOptions } from "./gate";
export { formatResetDuration, rateLimitHeaders } from "./headers";
export { ALERT_QUEUE_KEY, balanceKey, isRevokedKeyName, revokedKeyName, tenantStateKey } from "./keys";
export { LuaScript } from "./lua";
export { createLimitsRedis } from "./redis";
export { resolveLimits, usdToMicros } from "./resolve";
export { isKeyRevoked, revokeKey } from "./revocation";
export { createRevocationCache, type RevocationCache } from "./revocation-cache";
export { type ScriptRunner, scriptRunner } from "./script-runner";
export type { BatchCompanion } from "./settlements";
export type { Admission, AdmissionRequest, Caller, Gate } from "./types";
