import { z } from "zod";
import { badRequest } from "../errors";

export const GROUP_FIELDS = ["tenant", "key", "model", "provider", "day", "hour"] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

const DAY_MS = 86_400_000;
/** Default window when `from` is absent. */
const DEFAULT_RANGE_MS = 7 * DAY_MS;

/** "2026-01-31" (UTC midnight) or an ISO date-time with a zone ("2026-01-31T12:00:00Z", "+02:00"). */
const instant = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
    const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text);
    const ms = dateOnly ? Date.parse(`${text}T00:00:00Z`) : zoned ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({
        code: "custom",
        message: "must be a date (YYYY-MM-DD) or an ISO 8601 date-time with a zone",
      });
      return z.NEVER;
    }
    return new Date(ms);
  });

const filterValue = z.string().trim().min(1).max(256).optional();

/** Filters shared by the aggregate, the export and the raw listing. */
const FilterSchema = z.object({
  from: instant.optional(),
  to: instant.optional(),
  tenant: filterValue,
  key_id: filterValue,
  model: filterValue,
  provider: filterValue,
});

const AggregateSchema = FilterSchema.extend({
  group_by: z
    .string()
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
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

const ExportSchema = FilterSchema.extend({ format: z.enum(["csv"]).default("csv") });

const ListSchema = FilterSchema.extend({
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
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
  );
}

function toFilters(q: z.output<typeof FilterSchema>, now: number): UsageFilters {
  const to = q.to ?? new Date(now);
  const from = q.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() >= to.getTime())
    throw badRequest("Invalid query parameter 'from': must be before 'to'.", "from");
  return { from, to, tenant: q.tenant, keyId: q.key_id, model: q.model, provider: q.provider };
}
