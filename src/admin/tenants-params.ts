import * as z from "zod";
import { keyClaimsInputSchema } from "../auth";

const tenantId = keyClaimsInputSchema.shape.tenant;
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !/[\p{Cc}\p{Cs}]/u.test(value), "must not contain control characters");
/** A single entry moves at most $1,000,000: anything larger is a typo in micro-dollars. */
const MAX_ENTRY_MICROS = 1_000_000_000_000;
const micros = z.int().min(-MAX_ENTRY_MICROS).max(MAX_ENTRY_MICROS);

/** True for a path segment that can name a tenant (else 404 without a query). */
export const isTenantId = (id: string): boolean => tenantId.safeParse(id).success;

/** Body of `POST /admin/tenants`. */
export const CreateTenantBody = z.strictObject({
  id: tenantId,
  name: text(200).optional(),
  plan: tenantId.optional(),
  billing_mode: z.enum(["postpaid", "prepaid"]).default("postpaid"),
});

/** Body of `PATCH /admin/tenants/{id}`. */
export const UpdateTenantBody = z.strictObject({
  name: text(200).nullable().optional(),
  plan: tenantId.nullable().optional(),
  billing_mode: z.enum(["postpaid", "prepaid"]).optional(),
  status: z.enum(["active", "suspended"]).optional(),
});

/** Body of `POST /admin/tenants/{id}/top-up`: a positive amount. */
export const TopUpBody = z.strictObject({
  amount_micros: micros.positive(),
  reason: text(500).optional(),
  actor: text(200).optional(),
  idempotency_key: text(200).optional(),
});

/** Body of `POST /admin/tenants/{id}/adjustments`: who and why are required for manual entries. */
export const AdjustBody = z.strictObject({
  kind: z.enum(["refund", "adjustment"]),
  amount_micros: micros.refine((n) => n !== 0, "must not be 0"),
  reason: text(500),
  actor: text(200),
  idempotency_key: text(200).optional(),
});

/** Query of `GET /admin/tenants/{id}/ledger`: newest first, `before` an entry id for the next page. */
export const LedgerQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
});

/** Query of `GET /admin/tenants/{id}/statement`. */
export const StatementQuery = z.strictObject({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be a month as YYYY-MM"),
  /** Absent: HTML when the Accept header asks for text/html, else JSON. */
  format: z.enum(["json", "csv", "html"]).optional(),
});

/** Query of `GET /admin/tenants`. */
export const ListTenantsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
