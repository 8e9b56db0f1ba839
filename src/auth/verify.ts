import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { identityFromClaims } from "./claims";
import {
  createExternalIssuers,
  type ExternalIssuer,
  type ExternalIssuerRuntime,
  identityFromExternalClaims,
  type JwksFetch,
} from "./external";
import { reasonFor } from "./jose-errors";
import { isCompactJws, isSluiceKey, KEY_PREFIX } from "./key-format";
import { SIGNING_ALGORITHMS } from "./signing-keys";
import { type CacheStats, ExpiringLru } from "./token-cache";
import type { KeyIdentity, VerifyFailureReason, VerifyResult } from "./types";

export interface KeyVerifierOptions {
  /** Public keys for sluice's own keys (see `parseJwks`). */
  jwks: JSONWebKeySet;
  issuer: string;
  audience: string;
  /** Allowed clock skew for `exp`, `nbf` and `iat`; default 30. */
  clockToleranceSeconds?: number;
  /** Longer tokens are refused before any parsing; default 8192. */
  maxTokenBytes?: number;
  /** Verified tokens kept in memory; default 5000, 0 disables the cache. */
  cacheSize?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  externalIssuers?: readonly ExternalIssuer[];
  /** Fetch for external issuers' JWKS; default the global fetch. */
  fetch?: JwksFetch;
}

export interface KeyVerifier {
  /** Verifies a presented key. Never throws: bad input yields `{ ok: false, reason }`. */
  verify(rawToken: string | null | undefined): Promise<VerifyResult>;
  /** Cache counters: a hit cost a hash and no signature check. */
  stats(): CacheStats;
}

type Checked = { ok: true; identity: KeyIdentity } | { ok: false; reason: VerifyFailureReason };

const REQUIRED_CLAIMS = ["sub", "jti", "iat"];

/** What every verification needs, fixed when the verifier is built. */
interface Verification {
  issuer: string;
  audience: string;
  toleranceSeconds: number;
  ownKeys: JWTVerifyGetKey;
  externals: Map<string, ExternalIssuerRuntime>;
}

/**
 * Builds the verifier the worker keeps for the isolate's lifetime. Own keys (`sk-sluice-` + JWS)
 * are checked against `jwks` with an EdDSA/ES256 allowlist; other JWTs only when their `iss` is a
 * configured external issuer. Successes are cached by token until their `exp`.
 *
 * @example
 * const verifier = createKeyVerifier({ jwks: parseJwks(env.SLUICE_JWKS), issuer: "sluice", audience: "sluice" });
 * const result = await verifier.verify(extractToken(request.headers));
 * if (!result.ok) return unauthorized(result.reason);
 */
export function createKeyVerifier(opts: KeyVerifierOptions): KeyVerifier {
  const toleranceSeconds = opts.clockToleranceSeconds ?? 30;
  const maxTokenBytes = opts.maxTokenBytes ?? 8192;
  const now = opts.now ?? Date.now;
  if (!opts.issuer || !opts.audience)
    throw new TypeError("createKeyVerifier needs an issuer and an audience");
  if (!(toleranceSeconds >= 0)) throw new TypeError("clockToleranceSeconds must be >= 0");
  const verification: Verification = {
    issuer: opts.issuer,
    audience: opts.audience,
    toleranceSeconds,
    ownKeys: createLocalJWKSet(opts.jwks),
    externals: createExternalIssuers(opts.externalIssuers ?? [], opts.issuer, opts.fetch),
  };
  const cache = new ExpiringLru<KeyIdentity>(opts.cacheSize ?? 5000);

  return {
    async verify(rawToken) {
      if (!rawToken) return fail("missing");
      // The cap comes first: nothing of an oversized token is decoded, hashed or matched.
      if (rawToken.length > maxTokenBytes) return fail("too_large");
      const own = isSluiceKey(rawToken);
      const jws = own ? rawToken.slice(KEY_PREFIX.length) : rawToken;
      if (!isCompactJws(jws) || (!own && verification.externals.size === 0)) return fail("malformed");

      const nowMs = now();
      // Keyed by the token itself (capped above; only verified ones are kept): hashing it first
      // cost an async digest on every request, the cache's whole point being no work per request.
      const cached = cache.get(rawToken, nowMs);
      if (cached) return { ok: true, identity: cached };

      const result = await verifyUncached(verification, jws, own, nowMs);
      if (result.ok)
        cache.set(rawToken, result.identity, validUntilMs(result.identity, toleranceSeconds), nowMs);
      return result;
    },
    stats: () => cache.stats(),
  };
}

async function verifyUncached(v: Verification, jws: string, own: boolean, nowMs: number): Promise<Checked> {
  try {
    return own ? await verifyOwn(v, jws, nowMs) : await verifyExternal(v, jws, nowMs);
  } catch (error) {
    return fail(reasonFor(error)); // the contract is "never throws", even for the unforeseen
  }
}

async function verifyOwn(v: Verification, jws: string, nowMs: number): Promise<Checked> {
  const header = headerOf(jws);
  if (!header) return fail("malformed");
  if (!(SIGNING_ALGORITHMS as readonly unknown[]).includes(header.alg)) return fail("alg");
  if (typeof header.kid !== "string") return fail("unknown_kid");
  const payload = await verified(jws, v.ownKeys, {
    algorithms: [...SIGNING_ALGORITHMS],
    issuer: v.issuer,
    audience: v.audience,
    requiredClaims: REQUIRED_CLAIMS,
    ...claimOptions(v, nowMs),
  });
  if (!payload.ok) return payload;
  return withIdentity(identityFromClaims(payload.payload), nowMs, v.toleranceSeconds);
}

async function verifyExternal(v: Verification, jws: string, nowMs: number): Promise<Checked> {
  const header = headerOf(jws);
  const issuer = issuerOf(jws);
  if (!header || issuer === undefined) return fail("malformed");
  const external = v.externals.get(issuer);
  if (!external) return fail("unknown_issuer");
  const { config } = external;
  if (!(config.algorithms as readonly unknown[]).includes(header.alg)) return fail("alg");
  const payload = await verified(jws, external.getKey, {
    algorithms: [...config.algorithms],
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: ["exp", config.tenantClaim],
    ...claimOptions(v, nowMs),
  });
  if (!payload.ok) return payload;
  return withIdentity(identityFromExternalClaims(config, payload.payload), nowMs, v.toleranceSeconds);
}

function claimOptions(v: Verification, nowMs: number): { clockTolerance: number; currentDate: Date } {
  return { clockTolerance: v.toleranceSeconds, currentDate: new Date(nowMs) };
}

/** A cached identity stays valid exactly as long as a fresh verification would accept it. */
function validUntilMs(identity: KeyIdentity, toleranceSeconds: number): number {
  return identity.expiresAt === null
    ? Number.POSITIVE_INFINITY
    : (identity.expiresAt + toleranceSeconds) * 1000;
}

async function verified(
  jws: string,
  getKey: JWTVerifyGetKey,
  options: Parameters<typeof jwtVerify>[2],
): Promise<{ ok: true; payload: JWTPayload } | { ok: false; reason: VerifyFailureReason }> {
  try {
    const { payload } = await jwtVerify(jws, getKey, options);
    return { ok: true, payload };
  } catch (error) {
    return fail(reasonFor(error));
  }
}

function headerOf(jws: string): { alg?: unknown; kid?: unknown } | null {
  try {
    return decodeProtectedHeader(jws);
  } catch {
    return null;
  }
}

/** The unverified `iss`, only to pick which external issuer's keys to verify with. */
function issuerOf(jws: string): string | undefined {
  try {
    const { iss } = decodeJwt(jws);
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An identity whose claims hold up, or `claims`. jose checks `iat` only against a maximum age, so
 * a token "issued" later than now plus the allowed skew is refused here: no genuine signer issues
 * keys from the future (only a forger, or an issuer whose clock is wrong).
 */
function withIdentity(identity: KeyIdentity | null, nowMs: number, toleranceSeconds: number): Checked {
  if (!identity) return fail("claims");
  if (identity.issuedAt !== null && identity.issuedAt > nowMs / 1000 + toleranceSeconds)
    return fail("claims");
  return { ok: true, identity };
}

function fail(reason: VerifyFailureReason): { ok: false; reason: VerifyFailureReason } {
  return { ok: false, reason };
}
