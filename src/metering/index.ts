export { estimateUsage } from "./estimate";
export { insertUsageRows } from "./insert";
export { createMeter, type MeterOptions } from "./meter";
export {
  type Cost,
  costOf,
  createPriceBook,
  formatUsd,
  type PicoRates,
  type Price,
  type PriceBook,
  parseUsd,
  ratesFor,
  toMicrosCeil,
  toPrice,
  toUsdNumber,
  usdPerMillionToPico,
  worstCaseMicros,
} from "./prices";
export { deserializeRow, serializeRow, toUsageRow, type UsageRow } from "./row";
export {
  DEAD_LETTER_KEY,
  type FlushSpoolOptions,
  type FlushSpoolResult,
  flushSpool,
  SPOOL_KEY,
  SPOOL_MAX_ROWS,
  type SpoolRedis,
  spoolRows,
} from "./spool";
export { callerTags, parseTagHeader, TAGS_HEADER } from "./tags";
export type { UsageRecord } from "./types";
export { createUsageWriter, type UsageWriter, type UsageWriterOptions } from "./writer";
