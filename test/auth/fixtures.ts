import { base64url, type JSONWebKeySet, type JWK } from "jose";
import {
  createKeyVerifier,
  generateSigningKey,
  importSigningKey,
  type KeyVerifierOptions,
  parseJwks,
  type SigningAlgorithm,
  type SigningKey,
} from "../../src/auth";

export const ISSUER = "sluice";
export const AUDIENCE = "sluice";
export const MINT = { issuer: ISSUER, audience: AUDIENCE } as const;
/** A fixed "now" so expiry tests do not depend on the wall clock. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const T0_SECONDS = T0 / 1000;

export interface TestSigner {
  signer: SigningKey;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function makeSigner(kid: string, alg: SigningAlgorithm = "EdDSA"): Promise<TestSigner> {
  const { privateJwk, publicJwk } = await generateSigningKey(kid, alg);
  return { signer: await importSigningKey(JSON.stringify(privateJwk)), privateJwk, publicJwk };
}

export function jwksOf(...signers: TestSigner[]): JSONWebKeySet {
  return parseJwks(JSON.stringify({ keys: signers.map((s) => s.publicJwk) }));
}

/** A verifier on a controllable clock; `clock.ms` moves time. */
export function verifierFor(jwks: JSONWebKeySet, extra: Partial<KeyVerifierOptions> = {}) {
  const clock = { ms: T0 };
  const verifier = createKeyVerifier({
    jwks,
    issuer: ISSUER,
    audience: AUDIENCE,
    now: () => clock.ms,
    ...extra,
  });
  return { verifier, clock };
}

/** Hand-assembles a compact JWS from parts: for tokens no honest signer would produce. */
export function assemble(header: object, payload: object, signature = ""): string {
  const encode = (value: object) => base64url.encode(JSON.stringify(value));
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

/** Valid claims for a token minted at T0, to be altered by individual tests. */
export function baseClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "acme",
    jti: "key-1",
    iat: T0_SECONDS,
    exp: T0_SECONDS + 3600,
    scopes: ["*"],
    models: ["*"],
    ...overrides,
  };
}
