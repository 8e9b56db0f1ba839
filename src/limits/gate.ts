import type { Redis } from "@upstash/redis/cloudflare";
import type { Config, FailurePolicy } from "../config";
import type { GatewayError } from "../errors";
import { type Log, silentLog } from "../log";
import type { WindowBatcher } from "../window-batcher";
import { AdmissionMemory } from "./admission-memory";
import { type Outcome, within } from "./deadline";
import { type Decision, decide, type LocalTakes, type RateCheck } from "./decide";
import { rateLimitHeaders, tightest } from "./headers";
import { LocalLimiter } from "./local-limiter";
import { LuaScript } from "./lua";
import { PrepaidTenants } from "./prepaid-tenants";
import { type RateResult, RequestRate } from "./request-rate";
import {
  type AdmitReply,
  admitArgs,
  parseAdmitReply,
  planReservation,
  type Reservation,
  settleArgs,
  TOKEN_WINDOW_MS,
} from "./reservation";
import { resolveLimits } from "./resolve";
import { type ScriptRunner, scriptRunner } from "./script-runner";
import { ADMIT_SCRIPT, SETTLE_SCRIPT } from "./scripts";
import {
  type BatchCompanion,
  createSettlements,
  describeRedisError,
  type SettlementItem,
} from "./settlements";
import { spendShare } from "./spend-share";
import type { Admission, AdmissionRequest, Gate } from "./types";

export interface GateOptions {
  /** An @upstash/redis client (see createLimitsRedis); the gate sends through its HTTP layer. */
  redis: Redis;
  config: Config;
  /** Ms since the epoch; injectable so tests control budget periods, windows and leases. */
  now?: () => number;
  log?: Log;
  /** Longest wait for the round trip before the failure policy applies. Default 1000 ms. */
  timeoutMs?: number;
  /** How long an in-flight slot stays held by a request that never settles. Default 5 minutes. */
  leaseMs?: number;
  /** The runner to send through (shared with the metrics, so a tick's commands share a pipeline). */
  runner?: ScriptRunner;
  /** Work sent with each settlement batch, in its pipeline (the isolate's pending metrics). */
  companions?: readonly BatchCompanion[];
}

/**
 * The limits gate: before the upstream call, ONE Redis round trip decides revocation, request
 * rate (per key and per tenant), token rate, dollar budgets (key and tenant, UTC day and month)
 * and concurrency, and reads the shared breaker state. Every command is issued in the same tick,
 * so the gate's pipeline sends them as one /pipeline request: one Lua script (revocation,
 * breakers, concurrency, tokens, budgets: atomic, all-or-nothing) and one @upstash/ratelimit
 * sliding-window call per request-rate limit. A request refused by any check has everything the
 * others took given back, in the background, so it costs nothing. Settlements after the answer
 * are batched across requests (see createSettlements).
 *
 * Failure policy (`config.failure_policy`), applied per check when Redis cannot be reached
 * (an error, or no answer within `timeoutMs`):
 * - `rate_limits` (requests, tokens, concurrency), default `open`: the request is checked by an
 *   in-isolate approximate limiter instead (each isolate counts alone, so the effective limit is
 *   multiplied by the number of isolates until Redis is back); `closed` refuses with 503.
 * - `budgets`, default `closed`: a request that any dollar budget applies to is refused with
 *   503 `limits_unavailable` and `Retry-After: 1`, never overspent; `open` lets it through, and its
 *   real cost is still added to the counters at settlement if Redis is back by then.
 * - `revocation`, default `open`: the key's signature was verified, so it passes; `closed`
 *   refuses with 503.
 * The gate never throws for a Redis failure and never waits longer than `timeoutMs`.
 *
 * Memory (`config.speculative_admission`, see AdmissionMemory): each answer from the store is
 * remembered per key and tenant. `ample()` says, without I/O, whether the last one (recent, with
 * ten times this request's need left) lets the proxy send the upstream call while `admit` is still
 * in flight; and a refusal that holds until a reset is answered again from memory, with no round
 * trip at all, until then (at most a minute, or until a settlement here gives room back).
 *
 * @example
 * const gate = createGate({ redis: createLimitsRedis({ url, token }), config })
 * const admission = await gate.admit({ caller, requestId, estimatedTokens, worstCaseMicros, breakerKeys: [] })
 * if (admission.error) return errorResponse(admission.error)
 * ctx.waitUntil(admission.settle({ tokens: usage.total, costMicros }))
 */
export function createGate(opts: GateOptions): Gate {
  const runner = opts.runner ?? scriptRunner(opts.redis);
  const log = opts.log ?? silentLog;
  const settleScript = new LuaScript(runner, SETTLE_SCRIPT);
  const deps: Deps = {
    config: opts.config,
    policy: opts.config.failure_policy,
    now: opts.now ?? Date.now,
    log,
    timeoutMs: opts.timeoutMs ?? 1000,
    leaseMs: opts.leaseMs ?? 300_000,
    admitScript: new LuaScript(runner, ADMIT_SCRIPT),
    settleScript,
    settlements: createSettlements(settleScript, log, opts.companions),
    requestRate: new RequestRate(runner),
    local: new LocalLimiter(TOKEN_WINDOW_MS),
    prepaid: new PrepaidTenants(),
    memory: new AdmissionMemory(opts.config.speculative_admission),
    runner,
  };
  return {
    admit: (request) => admit(deps, request),
    ample: (request) => deps.memory.ample(deps.now(), request),
  };
}

interface Deps {
  config: Config;
  policy: FailurePolicy;
  now: () => number;
  log: Log;
  timeoutMs: number;
  leaseMs: number;
  admitScript: LuaScript;
  settleScript: LuaScript;
  /** Settlements batched across requests (one pipeline request per few ms). */
  settlements: WindowBatcher<SettlementItem>;
  requestRate: RequestRate;
  local: LocalLimiter;
  /** Tenants seen prepaid: refused, not let through, while Redis is unreachable. */
  prepaid: PrepaidTenants;
  /** Headroom and refusals the store last reported, per key and tenant (speculation, refusals from memory). */
  memory: AdmissionMemory;
  runner: ScriptRunner;
}

async function admit(deps: Deps, request: AdmissionRequest): Promise<Admission> {
  const now = deps.now();
  const remembered = deps.memory.refused(now, request);
  if (remembered) return refusedFromMemory(deps, request, remembered);
  const { limits, reservation } = reserve(deps, request, now);

  // The one round trip: every command below is queued in this tick, before the first await.
  deps.memory.sending(request);
  const { keys, args } = admitArgs(reservation);
  const script = deps.admitScript.run<unknown>(keys, args).then(parseAdmitReply);
  const rated = limits.rates.flatMap(({ scope, rpm }) => (rpm === undefined ? [] : [{ scope, rpm }]));
  const taken = rated.map(({ scope, rpm }) => deps.requestRate.take(scope, rpm));
  // The response cache's lookup: one more command in the same pipeline, so a miss costs nothing.
  const lookup = request.cacheKey
    ? within(deps.timeoutMs, [deps.runner.get<unknown>(request.cacheKey)])
    : null;

  const [scriptOutcome, ...rateOutcomes] = (await within<unknown>(deps.timeoutMs, [script, ...taken])) as [
    Outcome<AdmitReply>,
    ...Outcome<RateResult>[],
  ];
  logFailure(deps, request.requestId, [scriptOutcome, ...rateOutcomes]);
  const reply = scriptOutcome.ok ? scriptOutcome.value : null;
  if (reply?.status === "reserved" || reply?.status === "refused")
    deps.prepaid.remember(request.caller.tenant, reply.balance !== null);
  const rates: RateCheck[] = rated.map((rate, i) => ({
    ...rate,
    outcome: rateOutcomes[i] ?? { ok: false, error: null },
  }));
  const decision = decide({
    now,
    reservation,
    keyScope: limits.keyScope,
    reply,
    rates,
    policy: deps.policy,
    local: deps.local,
    knownPrepaid: deps.prepaid.has(request.caller.tenant),
  });

  const headers = rateLimitHeaders(tightest(decision.requestViews), tightest(decision.tokenViews));
  deps.memory.learn(request, { now, reservation, rates, reply, decision, headers });
  const breakerState = request.breakerKeys.map((_, i) => reply?.breakers[i] ?? null);
  const cached = await lookedUp(lookup);

  if (decision.denials.length > 0) {
    return refused(deps, request, { reservation, decision, rated, taken, reply, now, headers, breakerState });
  }

  let settled: Promise<void> | null = null;
  return {
    error: null,
    headers,
    breakerState,
    cached,
    spendShare: spendShare(reservation, reply),
    settle(actual) {
      settled ??= settle(deps, reservation, decision.local, actual, reply === null);
      return settled;
    },
  };
}

/** The caller's limits, and what this admission reserves against them at `now`. */
function reserve(deps: Deps, request: AdmissionRequest, now: number) {
  const limits = resolveLimits(deps.config, request.caller);
  const reservation = planReservation({
    limits,
    keyId: request.caller.keyId,
    tenant: request.caller.tenant,
    // Our own id: a client-chosen request id could collide and share a slot.
    id: crypto.randomUUID(),
    now,
    leaseMs: deps.leaseMs,
    tokens: request.estimatedTokens,
    micros: request.worstCaseMicros,
    billedMicros: request.worstCaseBilledMicros,
    breakerKeys: request.breakerKeys,
  });
  return { limits, reservation };
}

/** A refused admission: what the other checks took goes back in the background. */
function refused(
  deps: Deps,
  request: AdmissionRequest,
  state: {
    reservation: Reservation;
    decision: Decision;
    rated: { scope: RateCheck["scope"]; rpm: number }[];
    taken: Promise<RateResult>[];
    reply: AdmitReply | null;
    now: number;
    headers: Record<string, string>;
    breakerState: (string | null)[];
  },
): Admission {
  const { reservation, decision, reply, headers } = state;
  const first = decision.denials.reduce((a, b) => (b.rank < a.rank ? b : a));
  const rollback = giveBack(deps, {
    reservation,
    decision,
    rates: state.rated.map((rate, i) => ({ ...rate, result: state.taken[i] })),
    // A timed-out script may still run: the reservation record makes the give-back exact either way.
    scriptMayHaveReserved: reply === null || reply.status === "reserved",
    now: state.now,
  });
  request.waitUntil?.(rollback);
  return {
    error: first.error(headers),
    headers,
    breakerState: state.breakerState,
    cached: null,
    spendShare: null,
    settle: settleRefused(deps, rollback),
  };
}

/** A refusal remembered from an earlier answer: nothing was sent and nothing was taken, so nothing goes back. */
function refusedFromMemory(deps: Deps, request: AdmissionRequest, error: GatewayError): Admission {
  return {
    error,
    headers: {},
    breakerState: request.breakerKeys.map(() => null),
    cached: null,
    spendShare: null,
    settle: settleRefused(deps, Promise.resolve()),
  };
}

/** The response cache's GET, if one was sent: its value, or null (nothing stored, or Redis unreachable). */
async function lookedUp(lookup: Promise<Outcome<unknown>[]> | null): Promise<unknown> {
  const looked = (await lookup)?.[0];
  return looked?.ok ? looked.value : null;
}

/**
 * A refused admission's `settle`: nothing to settle but its give-back, yet it joins a settlement
 * batch so what rides along (the request's metrics) goes out with it. Idempotent.
 */
function settleRefused(deps: Deps, rollback: Promise<void>): () => Promise<void> {
  let joined: Promise<void> | null = null;
  return () => {
    joined ??= Promise.all([rollback, deps.settlements.add(null)]).then(() => {});
    return joined;
  };
}

/**
 * Settles to the real use: one script, batched with other requests' settlements into one round
 * trip, plus the local fallback's takes, if any. Never rejects.
 */
async function settle(
  deps: Deps,
  reservation: Reservation,
  local: LocalTakes,
  actual: { tokens: number; costMicros: number; billedMicros?: number },
  fellOpen: boolean,
): Promise<void> {
  deps.memory.settled(reservation);
  const unused = reservation.tokens - Math.max(0, actual.tokens);
  if (unused > 0) for (const id of local.tokens) deps.local.give(id, unused, deps.now());
  if (local.slot) deps.local.release(local.slot, reservation.id);
  const { keys, args } = settleArgs(
    reservation,
    { tokens: actual.tokens, micros: actual.costMicros, billedMicros: actual.billedMicros },
    fellOpen,
  );
  await deps.settlements.add({ reservationId: reservation.id, keys, args });
}

/** Gives back what a refused admission took from every check, so a refusal costs nothing. Never rejects. */
async function giveBack(
  deps: Deps,
  input: {
    reservation: Reservation;
    decision: Decision;
    rates: { scope: RateCheck["scope"]; rpm: number; result: Promise<RateResult> | undefined }[];
    scriptMayHaveReserved: boolean;
    now: number;
  },
): Promise<void> {
  const { reservation, now } = input;
  const { local } = input.decision;
  for (const id of local.requests) deps.local.give(id, 1, now);
  for (const id of local.tokens) deps.local.give(id, reservation.tokens, now);
  if (local.slot) deps.local.release(local.slot, reservation.id);

  const work: Promise<unknown>[] = input.rates.map(async ({ scope, rpm, result }) => {
    // Awaited even after a timeout: a late success still took a request that must go back.
    const taken = await result?.catch(() => null);
    if (taken?.success) await deps.requestRate.refund(scope, rpm);
  });
  if (input.scriptMayHaveReserved) {
    const { keys, args } = settleArgs(reservation, { tokens: 0, micros: 0 }, false);
    work.push(deps.settleScript.run(keys, args));
  }
  for (const result of await Promise.allSettled(work)) {
    if (result.status === "rejected") {
      deps.log("warn", "limits give-back failed", {
        reservation: reservation.id,
        error: describeRedisError(result.reason),
      });
    }
  }
}

function logFailure(deps: Deps, requestId: string, outcomes: Outcome<unknown>[]): void {
  for (const outcome of outcomes) {
    if (outcome.ok) continue;
    deps.log("warn", "limits store unreachable; applying the failure policy", {
      requestId,
      error: describeRedisError(outcome.error),
    });
    return;
  }
}
