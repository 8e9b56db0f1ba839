import type { Database } from "../db/client";
import type { UsageFilters } from "./usage-params";
import { pageUsageRows, type UsageEventJson } from "./usage-query";

/** Column order of the export: one line per request. */
export const CSV_COLUMNS: (keyof UsageEventJson)[] = [
  "request_id",
  "created_at",
  "tenant",
  "key_id",
  "endpoint",
  "requested_model",
  "provider",
  "upstream_model",
  "stream",
  "status",
  "error_code",
  "prompt_tokens",
  "completion_tokens",
  "cached_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "usage_source",
  "cost_usd",
  "unpriced",
  "latency_ms",
  "ttfb_ms",
  "attempts",
  "tags",
];

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading apostrophe:
 * model names and tags come from callers.
 * @example csvField('say "hi", bob') // "\"say \"\"hi\"\", bob\""
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value !== "number" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (with CRLF, as RFC 4180 asks). */
export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/**
 * Streams every matching row as CSV, oldest first, one keyset page per pull: memory stays one
 * page however large the export, and nothing is read before the client asks for it.
 * @example new Response(usageCsvStream(db, filters), { headers: { "content-type": "text/csv" } })
 */
export function usageCsvStream(
  db: Database,
  filters: UsageFilters,
  pageSize = 1_000,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: { createdAt: string; requestId: string } | null = null;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(csvLine(CSV_COLUMNS)));
          return;
        }
        const rows = await pageUsageRows(db, filters, { after, limit: pageSize, order: "asc" });
        if (rows.length) {
          controller.enqueue(
            encoder.encode(rows.map((row) => csvLine(CSV_COLUMNS.map((c) => row[c]))).join("")),
          );
          const last = rows[rows.length - 1] as UsageEventJson;
          after = { createdAt: last.created_at, requestId: last.request_id };
        }
        if (rows.length < pageSize) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
