import * as z from "zod";
import { keyClaimsInputSchema, parseDurationSeconds } from "../auth";
import { badRequest } from "../errors";

/** Ten years: a longer lifetime is a typo, and far-future dates stop being representable. */
export const MAX_LIFETIME_SECONDS = 10 * 365 * 86_400;
/** Default grace of a rotation: the old key keeps working for a day. */
export const DEFAULT_GRACE_SECONDS = 86_400;
const MAX_GRACE_SECONDS = 365 * 86_400;
const MAX_PAGE = 1000;

/** `3600` or `"30d"` / `"12h"` / `"90m"` / `"2w"` → seconds. */
const lifetime = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const seconds = parseDurationSeconds(value);
  if (seconds === null || seconds > MAX_LIFETIME_SECONDS) {
    ctx.addIssue({
      code: "custom",
      message: 'must be a positive whole number of seconds or a duration like "30d", "12h", at most 10 years',
    });
    return z.NEVER;
  }
  return seconds;
});

/** Control characters and lone surrogates: they break logs, headers and Postgres (NUL). */
const CONTROL = /[\p{Cc}\p{Cs}]/u;

/**
 * Body of `POST /admin/keys`: the mintable claims (no key id or not-before from outside), plus a
 * lifetime. The claims schema bounds every size; names, scopes and model globs must also be
 * printable, since they are stored, logged and shown on the dashboard.
 */
export const CreateKeyBody = keyClaimsInputSchema
  .pick({ tenant: true, name: true, scopes: true, models: true, plan: true, limits: true })
  .extend({ expires_in: lifetime.optional() })
  .superRefine((body, ctx) => {
    const refuseControl = (text: string | undefined, path: (string | number)[]) => {
      if (text !== undefined && CONTROL.test(text))
        ctx.addIssue({ code: "custom", path, message: "must not contain control characters" });
    };
    refuseControl(body.name, ["name"]);
    for (const [i, scope] of (body.scopes ?? []).entries()) refuseControl(scope, ["scopes", i]);
    for (const [i, model] of (body.models ?? []).entries()) refuseControl(model, ["models", i]);
  });

/**
 * Key ids as minted (`jti`: a UUID, or an identifier chosen with the CLI's `--key-id`). A path
 * segment that is not one names no key: 404 without a query, so no byte of it reaches the store.
 * @example isKeyId("0b6f…") // true; isKeyId("\u0000") // false
 */
export function isKeyId(id: string): boolean {
  return keyClaimsInputSchema.shape.keyId.safeParse(id).success;
}

/** Body of `POST /admin/keys/{id}/rotate`; `expires_in` defaults to the old key's lifetime. */
export const RotateKeyBody = z.strictObject({
  grace_seconds: z.int().min(0).max(MAX_GRACE_SECONDS).default(DEFAULT_GRACE_SECONDS),
  expires_in: lifetime.optional(),
});

/** Query of `GET /admin/keys`. */
export const ListKeysQuery = z.strictObject({
  tenant: keyClaimsInputSchema.shape.tenant.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
});

/**
 * Validates admin input, or throws a 400 naming the first bad param the way OpenAI does
 * (`limits.rpm`, or the unknown field itself).
 * @example const body = parseOrThrow(CreateKeyBody, await c.req.json())
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    const param = [...issue.path, issue.keys[0]].join(".");
    throw badRequest(`Unrecognized parameter: '${param}'.`, param, "unknown_parameter");
  }
  const param = issue?.path.length ? issue.path.join(".") : null;
  const message = param
    ? `Invalid value for '${param}': ${issue?.message}.`
    : `Invalid request: ${issue?.message}.`;
  throw badRequest(message, param, "invalid_value");
}
