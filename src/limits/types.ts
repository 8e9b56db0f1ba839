import type { GatewayError } from "../errors";

/** Who is calling and what they may spend, as the key (or its plan) says. */
export interface Caller {
  tenant: string;
  keyId: string;
  /** Token expiry (ms since epoch) bounds the TTL of revocation entries; null when the key never expires. */
  expiresAt: number | null;
  plan: string | null;
  /** Explicit limits on the key; they override the plan's. */
  limits: {
    rpm?: number;
    tpm?: number;
    concurrency?: number;
    budget_usd_day?: number;
    budget_usd_month?: number;
  };
}

/** What the gate needs to decide before the upstream call. */
export interface AdmissionRequest {
  caller: Caller;
  requestId: string;
  /** Prompt estimate + max output tokens: reserved against tpm, settled later. */
  estimatedTokens: number;
  /** Worst-case cost in integer micro-dollars; null when the model has no price. */
  worstCaseMicros: number | null;
  /** Worst case at the billed price: what a prepaid balance must hold. Absent: worstCaseMicros. */
  worstCaseBilledMicros?: number | null;
  /** Redis keys of shared routing state (breaker openings, latency estimates) to read in the same round trip. */
  breakerKeys: string[];
  /** A response-cache key to GET in the same round trip (src/cache/); its value comes back as `cached`. */
  cacheKey?: string | null;
  /** The request's `ctx.waitUntil`: a refused admission gives back what other checks took, in the background. */
  waitUntil?: (promise: Promise<unknown>) => void;
}

export interface Admission {
  /** Set when the request must be refused (revoked key 401, limits 429, budget 429 insufficient_quota). */
  error: GatewayError | null;
  /** OpenAI's x-ratelimit-* headers, on every response. */
  headers: Record<string, string>;
  /** Values read for `breakerKeys` (null when absent), in the same order. */
  breakerState: (string | null)[];
  /** What `cacheKey` held (null: nothing, no key asked, or Redis unreachable: a miss). */
  cached: unknown;
  /** Budget spent / limit nearest its limit (key or tenant, day or month), for `downgrade_at`; null: no budget read. */
  spendShare: number | null;
  /**
   * Settles reservations to the real usage and frees the concurrency slot; call once, in waitUntil.
   * Idempotent (later calls return the first call's promise); never rejects. On a refused
   * admission it returns the give-back of what the other checks took.
   */
  settle(actual: { tokens: number; costMicros: number; billedMicros?: number }): Promise<void>;
}

/** What `Gate.ample` weighs: whose headroom, and what the request would take from it. */
export type HeadroomQuery = Pick<
  AdmissionRequest,
  "estimatedTokens" | "worstCaseMicros" | "worstCaseBilledMicros"
> & {
  caller: Pick<Caller, "keyId" | "tenant">;
};

/** Decides revocation, rate, token, budget and concurrency limits in ONE Redis round trip. */
export interface Gate {
  admit(request: AdmissionRequest): Promise<Admission>;
  /**
   * No I/O: true when this isolate's last answers from the store show ample headroom for the
   * request's key and tenant (see AdmissionMemory), so it may go upstream before `admit` answers.
   */
  ample(request: HeadroomQuery): boolean;
}

/** Which budget alerts a settlement may queue: thresholds (percent of a limit) and the tenant they go to. */
export interface BudgetAlerts {
  tenant: string;
  thresholds: readonly number[];
}
