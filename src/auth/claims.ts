import * as z from "zod";
import { dropUndefined } from "./drop-undefined";
import type { KeyIdentity, KeyLimits } from "./types";

/** Ids that end up in Redis keys, SQL rows and logs: printable ASCII, no spaces, bounded. */
export const IDENTIFIER = /^[\x21-\x7e]{1,128}$/;
const identifier = z.string().regex(IDENTIFIER, "must be 1-128 printable ASCII characters");
const pattern = z.string().min(1).max(200);

/** Up to 30 days (2,592,000 s), the longest a route may cache. */
const cacheSeconds = z.int().min(0).max(2_592_000);

const limitsShape = {
  rpm: z.int().positive().optional(),
  tpm: z.int().positive().optional(),
  concurrency: z.int().positive().optional(),
  budget_usd_day: z.number().nonnegative().optional(),
  budget_usd_month: z.number().nonnegative().optional(),
  /** Response cache ceiling in seconds (0: off); it can only lower the plan's (src/cache/ceiling.ts). */
  cache_max_ttl_seconds: cacheSeconds.optional(),
};

/** Limits as an operator writes them: unknown names are typos and fail loudly. */
export const keyLimitsSchema = z.strictObject(limitsShape);

/** What a caller supplies to mint a key; ids and times are filled in by `mintKey`. */
export const keyClaimsInputSchema = z.strictObject({
  tenant: identifier,
  /** Defaults to a random UUID. */
  keyId: identifier.optional(),
  name: z.string().min(1).max(200).optional(),
  /** Defaults to `["*"]` (every scope). */
  scopes: z.array(pattern).max(64).optional(),
  /** Defaults to `["*"]` (every model). */
  models: z.array(pattern).max(256).optional(),
  plan: identifier.optional(),
  limits: keyLimitsSchema.optional(),
  /** Unix seconds before which the key is refused. */
  notBefore: z.int().nonnegative().optional(),
});

export type KeyClaimsInput = z.input<typeof keyClaimsInputSchema>;

/** The claims inside a sluice key, as signed. */
export interface KeyClaims {
  iss: string;
  aud: string;
  sub: string;
  jti: string;
  iat: number;
  exp?: number;
  nbf?: number;
  name?: string;
  scopes: string[];
  models: string[];
  plan?: string;
  limits?: KeyLimits;
}

/**
 * Claims read back from a verified token. Unknown limit names are dropped rather than refused, so a
 * verifier one release behind still accepts keys from a newer minter.
 */
const verifiedClaimsSchema = z.object({
  iss: z.string(),
  sub: identifier,
  jti: identifier,
  iat: z.number(),
  exp: z.number().optional(),
  name: z.string().max(200).optional(),
  scopes: z.array(pattern).max(64).default(["*"]),
  models: z.array(pattern).max(256).default(["*"]),
  plan: identifier.optional(),
  limits: z.object(limitsShape).optional(),
});

/** Thrown by `mintKey` for invalid input; `issues` name the bad fields (safe to show an operator). */
export class InvalidKeyClaimsError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid key claims: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`);
    this.name = "InvalidKeyClaimsError";
  }
}

/** Validates mint input or throws `InvalidKeyClaimsError`. */
export function parseKeyClaimsInput(input: unknown): z.output<typeof keyClaimsInputSchema> {
  const parsed = keyClaimsInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidKeyClaimsError(
    parsed.error.issues.map((issue) => ({ path: issue.path.join(".") || "(root)", message: issue.message })),
  );
}

/** Maps a verified sluice payload to an identity, or null when its claims have the wrong shape. */
export function identityFromClaims(payload: unknown): KeyIdentity | null {
  const parsed = verifiedClaimsSchema.safeParse(payload);
  if (!parsed.success) return null;
  const claims = parsed.data;
  return freezeIdentity({
    tenant: claims.sub,
    keyId: claims.jti,
    name: claims.name ?? null,
    scopes: claims.scopes,
    models: claims.models,
    plan: claims.plan ?? null,
    limits: dropUndefined(claims.limits ?? {}),
    expiresAt: claims.exp ?? null,
    issuedAt: claims.iat,
    issuer: claims.iss,
    external: false,
  });
}

/** Identities are shared between requests through the cache: make them immutable. */
export function freezeIdentity(identity: KeyIdentity): KeyIdentity {
  Object.freeze(identity.scopes);
  Object.freeze(identity.models);
  Object.freeze(identity.limits);
  return Object.freeze(identity);
}
