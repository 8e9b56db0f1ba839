import type { TokenUsage } from "../providers/types";

/** Everything known about one finished request; the writer turns it into a usage_events row. */
export interface UsageRecord {
  /** The gateway's own id for the request (the row's key); never taken from the caller. */
  requestId: string;
  /** The caller's x-client-request-id / x-request-id, validated (at most 128 printable ASCII); null if none. */
  clientRequestId: string | null;
  tenant: string;
  keyId: string;
  /** "chat" | "completions" | "embeddings" | "messages" */
  endpoint: string;
  requestedModel: string | null;
  provider: string | null;
  upstreamModel: string | null;
  stream: boolean;
  status: number;
  errorCode: string | null;
  usage: TokenUsage;
  usageSource: "provider" | "estimated";
  /** Answered from the response cache: the row's cost is 0 and the usage's cost is what it saved. */
  cacheHit?: boolean;
  latencyMs: number;
  ttfbMs: number | null;
  attempts: number;
  tags: Record<string, string> | null;
  /** The route the request named when a budget downgrade served it from another (`downgrade_to`). */
  downgradedFrom?: string | null;
  createdAt: Date;
}

/** Per-request metering handle: collects what happened, then settles and writes one usage row. */
export interface RequestMeter {
  /** The target that answered (or failed last); `downgradedFrom` the route a budget downgrade left. */
  setTarget(provider: string, model: string, attempts: number, downgradedFrom?: string | null): void;
  finish(outcome: {
    status: number;
    errorCode: string | null;
    usage?: TokenUsage;
    usageSource?: "provider" | "estimated";
    ttfbMs?: number | null;
    /** Served from the response cache: nothing spent (tokens and cost settle at 0). */
    cacheHit?: boolean;
  }): {
    tokens: number;
    costMicros: number;
    /** What a prepaid balance is charged: the billed price in micro-dollars, rounded up. */
    billedMicros: number;
    /** The finished record and its exact cost in pico-dollars (null: unpriced), for metrics and traces. */
    record: UsageRecord;
    costPicoUsd: bigint | null;
    write: () => Promise<void>;
  };
}

/** Who pays for a request: the caller's tenant and plan, and the model it asked for. */
export interface Payer {
  caller: { tenant: string; plan?: string | null };
  requestedModel: string | null;
}

/** Prices and per-request metering handles (see createMeter). */
export interface Meter {
  /** Worst-case cost of a call in integer micro-dollars (budget reservation); null when unpriced. */
  worstCaseMicros(
    provider: string,
    model: string,
    promptTokens: number,
    maxOutputTokens: number,
  ): number | null;
  /**
   * What the caller is charged in USD (`usage.cost`, `x-sluice-cost-usd`): the billed price when
   * the payer has billing terms (a reseller's customer must not see the reseller's cost), else the
   * cost; null when the model has no price.
   */
  costUsd(provider: string, model: string, usage: TokenUsage, payer?: Payer): number | null;
  begin(info: {
    /** The gateway's id for the request: the usage row's key. */
    requestId: string;
    /** The caller's validated x-client-request-id / x-request-id, stored beside it; null if none. */
    clientRequestId: string | null;
    caller: { tenant: string; keyId: string; plan?: string | null };
    endpoint: string;
    requestedModel: string | null;
    stream: boolean;
    tags: Record<string, string> | null;
    startedAt: number;
  }): RequestMeter;
}
