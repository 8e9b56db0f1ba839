import type { Database } from "../db/client";
import type { UsageFilters } from "./usage-params";
import { pageUsageRows, type RowPosition, type UsageEventJson } from "./usage-query";

/** Column order of the export: one line per request. */
export const CSV_COLUMNS: (keyof UsageEventJson)[] = [
  "request_id",
  "client_request_id",
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
  "list_cost_usd",
  "billed_usd",
  "unpriced",
  "cache_hit",
  "cache_saved_usd",
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
  // A leading # is quoted too: no data line may look like the export's error line.
  return /[",\r\n]|^#/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (with CRLF, as RFC 4180 asks). */
export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/**
 * The last line of an export that failed after its first bytes were sent. It starts with `#`,
 * which no data line does (see csvField), and has two fields where a row has one per column; the
 * stream then errors, so the HTTP transfer ends without its last chunk (curl reports a failed
 * transfer, fetch rejects) and the file can't pass for a complete export.
 */
export const EXPORT_FAILED_LINE =
  "#error,the export failed here: the usage store could not be read; the lines above are incomplete\r\n";

/**
 * Streams every matching row as CSV, oldest first, one keyset page per pull: memory stays one page
 * however large the export. The first page is read before the stream is returned, so a store
 * that fails then fails the request (an error status, not a header-only 200 that reads as "no
 * usage"); a later page that fails ends the CSV with EXPORT_FAILED_LINE and errors the stream.
 * @example new Response(await usageCsvStream(db, filters), { headers: { "content-type": "text/csv" } })
 */
export async function usageCsvStream(
  db: Database,
  filters: UsageFilters,
  pageSize = 1_000,
  onError: (message: string, error: unknown) => void = () => {},
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  const readPage = (after: RowPosition | null) =>
    pageUsageRows(db, filters, { after, limit: pageSize, order: "asc" });
  let page: UsageEventJson[] | null = await readPage(null);
  let head = csvLine(CSV_COLUMNS);
  let after: RowPosition | null = null;
  let failed = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (failed) {
          // A separate pull: erroring right after the enqueue could drop the error line.
          controller.error(new Error("usage export failed"));
          return;
        }
        let rows = page;
        page = null;
        if (!rows) {
          try {
            rows = await readPage(after);
          } catch (error) {
            failed = true;
            onError("usage export failed mid-stream", error);
            controller.enqueue(encoder.encode(EXPORT_FAILED_LINE));
            return;
          }
        }
        const text = head + rows.map((row) => csvLine(CSV_COLUMNS.map((c) => row[c]))).join("");
        head = "";
        if (text) controller.enqueue(encoder.encode(text));
        const last = rows[rows.length - 1];
        if (last) after = { createdAt: last.created_at, requestId: last.request_id };
        if (rows.length < pageSize) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
