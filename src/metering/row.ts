import type { UsageEventRow } from "../db/schema";
import type { TokenUsage } from "../providers/types";
import { type Cost, formatUsd } from "./prices";
import type { UsageRecord } from "./types";

/** A usage row as it is inserted: every column set, so multi-row inserts share one column list. */
export type UsageRow = Required<UsageEventRow>;

const INT4_MAX = 2_147_483_647;

/**
 * The usage_events row for a finished request. `cost` null means the model has no price: the row
 * keeps a null cost and `unpriced: true` instead of pretending it was free.
 * @example toUsageRow(record, costOf(price, record.usage))
 */
export function toUsageRow(record: UsageRecord, cost: Cost | null): UsageRow {
  return {
    requestId: record.requestId,
    clientRequestId: record.clientRequestId,
    tenant: record.tenant,
    keyId: record.keyId,
    endpoint: record.endpoint,
    requestedModel: record.requestedModel,
    provider: record.provider,
    upstreamModel: record.upstreamModel,
    stream: record.stream,
    status: int(record.status),
    errorCode: record.errorCode,
    promptTokens: int(record.usage.promptTokens),
    completionTokens: int(record.usage.completionTokens),
    cachedReadTokens: int(record.usage.cachedReadTokens),
    cacheWriteTokens: int(record.usage.cacheWriteTokens),
    cacheWrite1hTokens: int(record.usage.cacheWrite1hTokens ?? 0),
    reasoningTokens: int(record.usage.reasoningTokens),
    usageSource: record.usageSource,
    costUsd: cost ? formatUsd(record.cacheHit ? 0n : cost.picoUsd) : null,
    unpriced: cost === null,
    cacheSavingsUsd: cost ? formatUsd(record.cacheHit ? 0n : (cost.cacheSavingsPicoUsd ?? 0n)) : null,
    listCostUsd: cost ? formatUsd(record.cacheHit ? 0n : (cost.listPicoUsd ?? cost.picoUsd)) : null,
    billedUsd: cost ? formatUsd(record.cacheHit ? 0n : (cost.billedPicoUsd ?? cost.picoUsd)) : null,
    cacheHit: record.cacheHit === true,
    cacheSavedUsd: record.cacheHit && cost ? formatUsd(cost.picoUsd) : null,
    latencyMs: int(record.latencyMs),
    ttfbMs: record.ttfbMs === null ? null : int(record.ttfbMs),
    attempts: int(record.attempts),
    tags: record.tags && Object.keys(record.tags).length ? record.tags : null,
    downgradedFrom: record.downgradedFrom ?? null,
    createdAt: record.createdAt,
  };
}

/** Whole, non-negative and within int4, so one odd figure cannot fail a whole batch insert. */
function int(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.round(value), INT4_MAX);
}

/** True when the usage has no tokens at all (a rejected or failed request costs exactly $0). */
export function isEmptyUsage(usage: TokenUsage): boolean {
  return usage.promptTokens <= 0 && usage.completionTokens <= 0;
}

/** A row as plain JSON data, with the timestamp as ISO text. */
export function rowToJson(row: UsageRow): Record<string, unknown> {
  return { ...row, createdAt: row.createdAt.toISOString() };
}

/**
 * A row as spooled to Redis: JSON text. `flushFailures` counts the flushes that could not store
 * the row even on its own (see flushSpool); it is left out while zero.
 * @example await redis.rpush(SPOOL_KEY, serializeRow(row))
 */
export function serializeRow(row: UsageRow, flushFailures = 0): string {
  const json = rowToJson(row);
  return JSON.stringify(flushFailures > 0 ? { ...json, flushFailures } : json);
}

/** A spooled row and how many flushes already failed on it alone. */
export interface SpoolEntry {
  row: UsageRow;
  flushFailures: number;
}

/**
 * Reads a spool entry back; Upstash may hand it over already parsed from JSON. Null if malformed.
 * @example readSpoolEntry(await redis.lindex(SPOOL_KEY, 0))
 */
export function readSpoolEntry(value: unknown): SpoolEntry | null {
  let data: unknown = value;
  if (typeof value === "string") {
    try {
      data = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { flushFailures, ...fields } = data as Record<string, unknown>;
  if (typeof fields.requestId !== "string" || typeof fields.createdAt !== "string") return null;
  const createdAt = new Date(fields.createdAt);
  if (Number.isNaN(createdAt.getTime())) return null;
  return {
    // Rows spooled before a column existed lack it: null, as the column's default.
    row: {
      ...(fields as unknown as UsageRow),
      clientRequestId: (fields.clientRequestId as string) ?? null,
      cacheWrite1hTokens: (fields.cacheWrite1hTokens as number) ?? 0,
      cacheSavingsUsd: (fields.cacheSavingsUsd as string) ?? null,
      cacheHit: (fields.cacheHit as boolean) ?? false,
      cacheSavedUsd: (fields.cacheSavedUsd as string) ?? null,
      listCostUsd: (fields.listCostUsd as string) ?? null,
      downgradedFrom: (fields.downgradedFrom as string) ?? null,
      billedUsd: (fields.billedUsd as string) ?? null,
      createdAt,
    },
    flushFailures:
      typeof flushFailures === "number" && Number.isInteger(flushFailures) && flushFailures > 0
        ? flushFailures
        : 0,
  };
}

/** Reads a spooled row back (see readSpoolEntry). Null if malformed. */
export function deserializeRow(value: unknown): UsageRow | null {
  return readSpoolEntry(value)?.row ?? null;
}
