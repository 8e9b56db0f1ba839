import type { VerifyFailureReason } from "./types";

/** Raised inside a remote key lookup when the issuer's JWKS cannot be fetched or read. */
export class IssuerUnavailableError extends Error {
  constructor() {
    super("external issuer JWKS unavailable");
    this.name = "IssuerUnavailableError";
  }
}

/** Maps whatever jose (or a key lookup) threw to a failure reason; anything unknown is "malformed". */
export function reasonFor(error: unknown): VerifyFailureReason {
  if (error instanceof IssuerUnavailableError) return "issuer_unavailable";
  const { code, claim } = (error ?? {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (claim === "nbf") return "not_yet_valid";
      if (claim === "iss") return "issuer";
      if (claim === "aud") return "audience";
      return "claims";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "bad_signature";
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "unknown_kid";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "alg";
    default:
      return "malformed";
  }
}

/** True for errors that mean "no such key", as opposed to "could not get the keys". */
export function isKeyLookupMiss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_JWKS_NO_MATCHING_KEY" || code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS";
}
