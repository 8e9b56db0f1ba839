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
    reasoningTokens: int(record.usage.reasoningTokens),
    usageSource: record.usageSource,
    costUsd: cost ? formatUsd(cost.picoUsd) : null,
    unpriced: cost === null,
    latencyMs: int(record.latencyMs),
    ttfbMs: record.ttfbMs === null ? null : int(record.ttfbMs),
    attempts: int(record.attempts),
    tags: record.tags && Object.keys(record.tags).length ? record.tags : null,
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

/** A row as spooled to Redis: JSON, with the timestamp as ISO text. */
export function serializeRow(row: UsageRow): string {
  return JSON.stringify({ ...row, createdAt: row.createdAt.toISOString() });
}

/** Reads a spooled row back; Upstash may hand it over already parsed from JSON. Null if malformed. */
export function deserializeRow(value: unknown): UsageRow | null {
  let data: unknown = value;
  if (typeof value === "string") {
    try {
      data = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (typeof data !== "object" || data === null) return null;
  const row = data as Record<string, unknown>;
  if (typeof row.requestId !== "string" || typeof row.createdAt !== "string") return null;
  const createdAt = new Date(row.createdAt);
  if (Number.isNaN(createdAt.getTime())) return null;
  return { ...(row as unknown as UsageRow), createdAt };
}
