import * as z from "zod";
import { keyClaimsInputSchema } from "../auth";
import { badRequest } from "../errors";

export const GROUP_FIELDS = ["tenant", "key", "model", "provider", "day", "hour"] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

const DAY_MS = 86_400_000;
/** Default window when `from` is absent. */
const DEFAULT_RANGE_MS = 7 * DAY_MS;
/**
 * The instants the API takes: Postgres holds far more, but before 1970 nothing was metered and past
 * year 9999 `toISOString()` (file names, cursors, answers) stops writing four-digit years.
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(10_000, 0, 1) - 1;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
/** Control characters and lone surrogates: Postgres text refuses NUL, and none belongs in a filter. */
const CONTROL = /[\p{Cc}\p{Cs}]/u;
const MAX_FILTER_CHARS = 256;
/** A request id in a cursor: the gateway's own ids are far shorter. */
const MAX_CURSOR_ID_CHARS = 256;
/** `created_at` as the listing writes it into cursors: UTC, microseconds. */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Milliseconds of an instant the API accepts, or null: a real calendar day (Date.parse rolls
 * 2026-02-30 over to March) between 1970 and 9999.
 * @example instantMs("2026-01-31") // 1769817600000
 */
export function instantMs(text: string): number | null {
  const match = DATE_ONLY.exec(text) ?? DATE_TIME.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (
    calendar.getUTCFullYear() !== year ||
    calendar.getUTCMonth() !== month - 1 ||
    calendar.getUTCDate() !== day
  )
    return null;
  const ms = DATE_ONLY.test(text) ? calendar.getTime() : Date.parse(text);
  return Number.isNaN(ms) || ms < EARLIEST_MS || ms > LATEST_MS ? null : ms;
}

/** "2026-01-31" (UTC midnight) or an ISO date-time with a zone ("2026-01-31T12:00:00Z", "+02:00"). */
const instant = z
  .string()
  .trim()
  .max(64)
  .transform((text, ctx) => {
    const ms = instantMs(text);
    if (ms === null) {
      ctx.addIssue({
        code: "custom",
        message:
          "must be a date (YYYY-MM-DD) or an ISO 8601 date-time with a zone, between 1970-01-01 and 9999-12-31",
      });
      return z.NEVER;
    }
    return new Date(ms);
  });

const printable = (text: string) => !CONTROL.test(text);
/** Model and provider names: any printable text, bounded. */
const textFilter = z
  .string()
  .trim()
  .min(1)
  .max(MAX_FILTER_CHARS)
  .refine(printable, "must be printable text without control characters")
  .optional();
/** Tenants and key ids are identifiers (as minted): a value no identifier can be matches nothing. */
const idFilter = z.string().trim().pipe(keyClaimsInputSchema.shape.tenant).optional();

/** A page size: digits only (no `0x10`, `1e3` or blanks, which Number() would take), within bounds. */
const pageSize = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback);

/** Filters shared by the aggregate, the export and the raw listing. */
const FilterSchema = z.object({
  from: instant.optional(),
  to: instant.optional(),
  tenant: idFilter,
  key_id: idFilter,
  model: textFilter,
  provider: textFilter,
});

const AggregateSchema = FilterSchema.extend({
  group_by: z
    .string()
    .max(200)
    .optional()
    .transform((text, ctx) => {
      const fields = [
        ...new Set(
          (text ?? "")
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean),
        ),
      ];
      const unknown = fields.filter((f) => !(GROUP_FIELDS as readonly string[]).includes(f));
      if (unknown.length) {
        ctx.addIssue({
          code: "custom",
          message: `unknown group_by field(s): ${unknown.join(", ")}; use ${GROUP_FIELDS.join(", ")}`,
        });
        return z.NEVER;
      }
      return fields as GroupField[];
    }),
  limit: pageSize(10_000, 1_000),
});

const ExportSchema = FilterSchema.extend({ format: z.enum(["csv"]).default("csv") });

const ListSchema = FilterSchema.extend({
  limit: pageSize(1_000, 100),
  cursor: z.string().max(512).optional(),
});

/** Resolved filters: the time range is always bounded. */
export interface UsageFilters {
  from: Date;
  to: Date;
  tenant?: string;
  keyId?: string;
  model?: string;
  provider?: string;
}

export interface AggregateParams {
  filters: UsageFilters;
  groupBy: GroupField[];
  limit: number;
}

export interface ListParams {
  filters: UsageFilters;
  limit: number;
  cursor?: string;
}

/** Parses `/usage` query params or throws an OpenAI-shaped 400 naming the bad param. */
export function parseAggregateParams(query: Record<string, string>, now: number): AggregateParams {
  const q = parse(AggregateSchema, query);
  return { filters: toFilters(q, now), groupBy: q.group_by, limit: q.limit };
}

/** Parses `/usage/export` query params. */
export function parseExportParams(
  query: Record<string, string>,
  now: number,
): { filters: UsageFilters; format: "csv" } {
  const q = parse(ExportSchema, query);
  return { filters: toFilters(q, now), format: q.format };
}

/** Parses `/usage/requests` query params. */
export function parseListParams(query: Record<string, string>, now: number): ListParams {
  const q = parse(ListSchema, query);
  return { filters: toFilters(q, now), limit: q.limit, cursor: q.cursor };
}

function parse<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.length ? String(issue.path[0]) : null;
  throw badRequest(
    `Invalid query parameter${param ? ` '${param}'` : ""}: ${issue?.message ?? "invalid"}.`,
    param,
    "invalid_value",
  );
}

function toFilters(q: z.output<typeof FilterSchema>, now: number): UsageFilters {
  const to = q.to ?? new Date(now);
  const from = q.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() >= to.getTime())
    throw badRequest("Invalid query parameter 'from': must be before 'to'.", "from", "invalid_value");
  return { from, to, tenant: q.tenant, keyId: q.key_id, model: q.model, provider: q.provider };
}

/**
 * True when a decoded cursor's fields are safe to hand to Postgres: a time as the listing writes
 * it, within the accepted range, and a printable, bounded request id.
 * @example isCursorPosition("2026-01-31T12:00:00.000001Z", "3f2c…") // true
 */
export function isCursorPosition(createdAt: unknown, requestId: unknown): boolean {
  return (
    typeof createdAt === "string" &&
    CURSOR_TIME.test(createdAt) &&
    instantMs(createdAt) !== null &&
    typeof requestId === "string" &&
    requestId.length > 0 &&
    requestId.length <= MAX_CURSOR_ID_CHARS &&
    printable(requestId)
  );
}
