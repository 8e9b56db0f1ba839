/** Explicit per-key limits; any limit left out falls back to the key's plan. */
export interface KeyLimits {
  /** Requests per minute. */
  rpm?: number;
  /** Tokens (prompt + completion) per minute. */
  tpm?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Spend cap per UTC day, in USD. */
  budget_usd_day?: number;
  /** Spend cap per UTC month, in USD. */
  budget_usd_month?: number;
  /** Longest the response cache keeps this key's answers, in seconds; 0 turns it off. Never above the plan's. */
  cache_max_ttl_seconds?: number;
}

/** Who is calling and what they may do: the normalized result of a verified key or external token. */
export interface KeyIdentity {
  /** Tenant the usage and limits belong to (`sub`, or an external issuer's tenant claim). */
  tenant: string;
  /** Key id (`jti`); for external tokens without `jti`, their `sub`. */
  keyId: string;
  name: string | null;
  /** Scope patterns (glob); see `hasScope`. */
  scopes: readonly string[];
  /** Model patterns (glob); see `modelAllowed`. */
  models: readonly string[];
  plan: string | null;
  limits: Readonly<KeyLimits>;
  /** Unix seconds, or null for a key that does not expire. */
  expiresAt: number | null;
  /** Unix seconds, or null when the token carries no `iat` (external tokens only). */
  issuedAt: number | null;
  issuer: string;
  /** True when the token came from a trusted external issuer rather than sluice's own signer. */
  external: boolean;
}

/** Why a presented key was refused. Every reason means 401 except where the caller decides otherwise. */
export type VerifyFailureReason =
  /** No key presented. */
  | "missing"
  /** Longer than `maxTokenBytes`: refused before any parsing. */
  | "too_large"
  /** Not a sluice key or compact JWS, or undecodable. */
  | "malformed"
  /** Header `alg` outside the allowlist (`none`, HS*, RS* for own keys, ...). */
  | "alg"
  /** No key in the set matches the header's `kid`. */
  | "unknown_kid"
  /** Signature does not match (forged or tampered). */
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  /** `iss` is not the expected one. */
  | "issuer"
  /** `aud` is not the expected one. */
  | "audience"
  /** A required claim is missing or has the wrong shape, or `iat` is later than now plus the skew. */
  | "claims"
  /** A non-sluice token whose `iss` is no configured external issuer. */
  | "unknown_issuer"
  /** An external issuer's JWKS could not be fetched (a 503 candidate rather than 401). */
  | "issuer_unavailable";

/** Outcome of `KeyVerifier.verify`: never thrown, always returned. */
export type VerifyResult = { ok: true; identity: KeyIdentity } | { ok: false; reason: VerifyFailureReason };
