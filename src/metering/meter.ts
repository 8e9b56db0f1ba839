import type { PriceInput } from "../config/prices";
import type { TokenUsage } from "../providers/types";
import { ZERO_USAGE } from "../providers/types";
import {
  type Cost,
  costOf,
  createPriceBook,
  type PriceBook,
  scaleCost,
  scaleMicros,
  toMicrosCeil,
  toUsdNumber,
  worstCaseMicros,
} from "./prices";
import { isEmptyUsage } from "./row";
import type { Meter, Payer, RequestMeter, UsageRecord } from "./types";
import type { UsageWriter } from "./writer";

export interface MeterOptions {
  /** Operator price rows (config.prices) over the defaults, or a ready price book. */
  prices: readonly PriceInput[] | PriceBook;
  writer: UsageWriter;
  now: () => number;
  /** A provider's `cost_multiplier` (its share of the list price); 1 when absent. */
  costMultiplier?: (provider: string | null) => number;
  /** What the caller is billed for a request of this exact cost (src/billing/); absent: the cost. */
  billed?: (
    payer: { tenant: string; plan: string | null },
    requestedModel: string | null,
    usage: TokenUsage,
    costPicoUsd: bigint,
  ) => bigint;
}

/** The target that answered a request, as the proxy reports it; `from` a route left by a downgrade. */
type Answered = { provider: string | null; model: string | null; attempts: number; from: string | null };

/**
 * The proxy's metering handle: prices, per-request records and the batched writer behind one
 * surface. The cost returned to the caller and the cost in the row come from the same lookup,
 * so they are always equal.
 * @example const meter = createMeter({ prices: config.prices, writer, now })
 */
export function createMeter(opts: MeterOptions): Meter {
  const book = "lookup" in opts.prices ? opts.prices : createPriceBook(opts.prices);
  const multiplier = opts.costMultiplier ?? (() => 1);

  /** Null when the model has no price; exactly $0 when nothing was used (a rejected request). */
  const costFor = (provider: string | null, model: string | null, usage: TokenUsage): Cost | null => {
    if (isEmptyUsage(usage)) return { picoUsd: 0n };
    const price = book.lookup(provider, model);
    return price ? scaleCost(costOf(price, usage), multiplier(provider)) : null;
  };

  return {
    worstCaseMicros(provider, model, promptTokens, maxOutputTokens) {
      const price = book.lookup(provider, model);
      return price
        ? scaleMicros(worstCaseMicros(price, promptTokens, maxOutputTokens), multiplier(provider))
        : null;
    },
    costUsd(provider, model, usage, payer) {
      const cost = costFor(provider, model, usage);
      const charged = payer ? withBilled(opts, payer, cost, usage) : cost;
      return charged ? toUsdNumber(charged.billedPicoUsd ?? charged.picoUsd) : null;
    },
    begin(info): RequestMeter {
      let target: Answered = { provider: null, model: null, attempts: 0, from: null };
      let written: Promise<void> | undefined;
      return {
        setTarget(provider, model, attempts, downgradedFrom) {
          target = { provider, model, attempts, from: downgradedFrom ?? null };
        },
        finish(outcome) {
          const usage = outcome.usage ?? ZERO_USAGE;
          const cost = withBilled(opts, info, costFor(target.provider, target.model, usage), usage);
          const record: UsageRecord = {
            requestId: info.requestId,
            clientRequestId: info.clientRequestId,
            tenant: info.caller.tenant,
            keyId: info.caller.keyId,
            endpoint: info.endpoint,
            requestedModel: info.requestedModel,
            provider: target.provider,
            upstreamModel: target.model,
            stream: info.stream,
            status: outcome.status,
            errorCode: outcome.errorCode,
            usage,
            usageSource: outcome.usageSource ?? "provider",
            cacheHit: outcome.cacheHit === true,
            latencyMs: Math.max(0, opts.now() - info.startedAt),
            ttfbMs: outcome.ttfbMs ?? null,
            attempts: target.attempts,
            tags: info.tags,
            downgradedFrom: target.from,
            createdAt: new Date(info.startedAt),
          };
          const spent = record.cacheHit ? null : cost;
          return {
            tokens: record.cacheHit ? 0 : usage.promptTokens + usage.completionTokens,
            costMicros: spent ? toMicrosCeil(spent.picoUsd) : 0,
            billedMicros: spent ? toMicrosCeil(spent.billedPicoUsd ?? spent.picoUsd) : 0,
            record,
            costPicoUsd: record.cacheHit && cost ? 0n : (cost?.picoUsd ?? null),
            // One row per request, however often the proxy calls it.
            write: () => {
              written ??= opts.writer.record(record, cost);
              return written;
            },
          };
        },
      };
    },
  };
}

/** The cost with the billed price beside it; an empty usage (a refusal) bills 0 as it costs 0. */
function withBilled(opts: MeterOptions, info: Payer, cost: Cost | null, usage: TokenUsage): Cost | null {
  if (!cost || !opts.billed || isEmptyUsage(usage)) return cost;
  const payer = { tenant: info.caller.tenant, plan: info.caller.plan ?? null };
  return { ...cost, billedPicoUsd: opts.billed(payer, info.requestedModel, usage, cost.picoUsd) };
}
