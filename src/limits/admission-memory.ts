import type { Config } from "../config";
import type { GatewayError } from "../errors";
import type { Outcome } from "./deadline";
import type { Decision } from "./decide";
import { HeadroomMemory, type Need, type Room } from "./headroom";
import type { Scope } from "./keys";
import { RefusalMemory, type Remembered } from "./refusals";
import type { RateResult } from "./request-rate";
import type { AdmitReply, Reservation } from "./reservation";
import type { AdmissionRequest, Caller, HeadroomQuery } from "./types";

/** What one admission learned, for the memory. */
export interface Learned {
  now: number;
  reservation: Reservation;
  /** The request-rate limits checked, with the store's answers, in the same order. */
  rates: { scope: Scope; outcome: Outcome<RateResult> }[];
  reply: AdmitReply | null;
  decision: Decision;
  headers: Record<string, string>;
}

const keyScope = (caller: Pick<Caller, "keyId">): Scope => ({ kind: "key", id: caller.keyId });
const tenantScope = (caller: Pick<Caller, "tenant">): Scope => ({ kind: "tenant", id: caller.tenant });

/** What a request takes: its tokens, and the larger of its worst-case cost and billed price. */
function needOf(request: HeadroomQuery): Need {
  const whole = (n: number | null | undefined) => (n && Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0);
  return {
    tokens: whole(request.estimatedTokens),
    micros: Math.max(whole(request.worstCaseMicros), whole(request.worstCaseBilledMicros)),
  };
}

/**
 * The gate's per-isolate memory of its last answers from the limits store: the headroom each key
 * and tenant had (whether a request may go upstream before its own answer: speculative
 * admission) and the refusals that hold until a reset (refused again without a round trip).
 * Only the store's answers count: the local fallback's decisions teach it nothing.
 * @example if (memory.ample(now, request)) startUpstreamNow()
 */
export class AdmissionMemory {
  private readonly headroom: HeadroomMemory;
  private readonly refusals = new RefusalMemory();
  private readonly rememberRefusals: boolean;

  constructor(config: Config["speculative_admission"]) {
    this.headroom = new HeadroomMemory(config.headroom_factor, config.max_age_ms);
    this.rememberRefusals = config.remember_refusals;
  }

  /** True when the caller's last picture shows ample headroom for this request, and no refusal holds. */
  ample(now: number, request: HeadroomQuery): boolean {
    const key = keyScope(request.caller);
    const tenant = tenantScope(request.caller);
    if (this.refusals.holds(now, [key, tenant])) return false;
    return this.headroom.ample(now, key, tenant, needOf(request));
  }

  /** A remembered refusal that covers this request, or null: then the store must decide. */
  refused(now: number, request: AdmissionRequest): GatewayError | null {
    if (!this.rememberRefusals) return null;
    return this.refusals.check(now, [keyScope(request.caller), tenantScope(request.caller)], needOf(request));
  }

  /** An admission on its way to the store: its need comes off the caller's picture at once. */
  sending(request: AdmissionRequest): void {
    this.headroom.debit(keyScope(request.caller), tenantScope(request.caller), needOf(request));
  }

  /**
   * A reservation settled in this isolate gave room back: refusals of its token and budget
   * scopes are forgotten (other isolates' settlements are not seen: their refusals end at reset).
   */
  settled(reservation: Reservation): void {
    const scopes: Scope[] = reservation.tokenCounters.map((c) => c.scope);
    for (const c of reservation.budgetCounters) scopes.push(c.budget.scope);
    this.refusals.release(scopes);
  }

  /** Learns from the store's answer to one admission. */
  learn(request: AdmissionRequest, learned: Learned): void {
    const key = keyScope(request.caller);
    const tenant = tenantScope(request.caller);
    const { reply, decision } = learned;
    if (decision.denials.length > 0) {
      this.headroom.forget(key, tenant);
      if (!this.rememberRefusals) return;
      const memos = decision.denials.flatMap((d): Remembered[] => (d.memo ? [d.memo] : []));
      this.refusals.remember(learned.now, memos, learned.headers);
      return;
    }
    if (reply?.status !== "reserved" || learned.rates.some((r) => !r.outcome.ok)) {
      this.headroom.forget(key, tenant);
      return;
    }
    this.headroom.observe(learned.now, key, tenant, roomsOf(learned, reply, key, tenant));
  }
}

/** The room left on every limit after a granted admission, as the store reported it. */
function roomsOf({ reservation: r, rates }: Learned, reply: AdmitReply, key: Scope, tenant: Scope): Room[] {
  const rooms: Room[] = [];
  for (const { scope, outcome } of rates) {
    if (outcome.ok) rooms.push({ scope, dimension: "requests", remaining: outcome.value.remaining });
  }
  r.tokenCounters.forEach(({ scope, tpm }, i) => {
    rooms.push({ scope, dimension: "tokens", remaining: tpm - (reply.tokens[i]?.used ?? tpm) - r.tokens });
  });
  r.budgetCounters.forEach(({ budget }, i) => {
    const spent = reply.budgets[i]?.spent ?? budget.micros;
    rooms.push({ scope: budget.scope, dimension: "micros", remaining: budget.micros - spent - r.micros });
  });
  if (reply.balance) {
    rooms.push({ scope: tenant, dimension: "micros", remaining: reply.balance.available - r.billedMicros });
  }
  if (r.concurrency > 0) {
    rooms.push({ scope: key, dimension: "slots", remaining: r.concurrency - reply.inflight - 1 });
  }
  return rooms;
}
