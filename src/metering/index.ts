export { classifyDbError, type DbFailure } from "./db-errors";
export {
  DEAD_LETTER_KEY,
  DEAD_LETTER_MAX_ENTRIES,
  type DeadLetter,
  deadLetter,
  pushDeadLetters,
} from "./dead-letter";
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
export {
  deserializeRow,
  readSpoolEntry,
  type SpoolEntry,
  serializeRow,
  toUsageRow,
  type UsageRow,
} from "./row";
export {
  type FlushSpoolOptions,
  type FlushSpoolResult,
  flushSpool,
  MAX_FLUSH_FAILURES,
  SPOOL_KEY,
  SPOOL_MAX_ROWS,
  type SpoolRedis,
  spoolRows,
} from "./spool";
export { callerTags, parseTagHeader, TAGS_HEADER } from "./tags";
export type { Meter, Payer, RequestMeter, UsageRecord } from "./types";
export { createUsageWriter, type UsageWriter, type UsageWriterOptions } from "./writer";
