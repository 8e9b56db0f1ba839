// The auth module's public surface: everything else in src/auth is internal.

export type { JSONWebKeySet as JsonWebKeySet, JWK } from "jose";
export { adminTokenMatches } from "./admin-token";
export {
  InvalidKeyClaimsError,
  type KeyClaims,
  type KeyClaimsInput,
  keyClaimsInputSchema,
  keyLimitsSchema,
} from "./claims";
export { parseDurationSeconds } from "./duration";
export { EXTERNAL_ALGORITHMS, type ExternalAlgorithm, type ExternalIssuer, type JwksFetch } from "./external";
export { globMatch, hasScope, modelAllowed } from "./glob";
export { extractToken } from "./headers";
export { type InspectedKey, inspectKey } from "./inspect";
export { isSluiceKey, KEY_PREFIX } from "./key-format";
export { type MintedKey, type MintOptions, mintKey } from "./mint";
export {
  generateSigningKey,
  InvalidSigningKeyError,
  importSigningKey,
  parseJwks,
  publicJwkOf,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKey,
  type SigningKeyPair,
} from "./signing-keys";
export type { CacheStats } from "./token-cache";
export type { KeyIdentity, KeyLimits, VerifyFailureReason, VerifyResult } from "./types";
export { createKeyVerifier, type KeyVerifier, type KeyVerifierOptions } from "./verify";
