import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from "jose";
import { toHex } from "../encoding";
import { isPlainObject } from "../plain-object";
import { dropUndefined } from "./drop-undefined";

/** Algorithms sluice signs and verifies its own keys with. Asymmetric only: the worker never holds a signing secret. */
export const SIGNING_ALGORITHMS = ["EdDSA", "ES256"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The curve each algorithm is bound to, so a JWK cannot pair an algorithm with the wrong key type. */
const KEY_SHAPE: Record<SigningAlgorithm, { kty: string; crv: string }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
};

/** A private key ready to mint with. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  key: CryptoKey;
}

/** A fresh key pair as JWKs: the private one for the minting secret, the public one for the JWKS. */
export interface SigningKeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
}

/** Thrown for an unusable signing key or key set. Messages never include key material. */
export class InvalidSigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidSigningKeyError";
  }
}

/**
 * Generates a signing key pair with `kid`, `alg` and `use: "sig"` set on both JWKs.
 * The default kid is the UTC date plus random hex, so rotations sort by age.
 *
 * @example const { privateJwk, publicJwk } = await generateSigningKey("2026-05");
 */
export async function generateSigningKey(
  kid: string = defaultKid(),
  alg: SigningAlgorithm = "EdDSA",
): Promise<SigningKeyPair> {
  if (!kid) throw new InvalidSigningKeyError("kid must not be empty");
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const meta = { kid, alg, use: "sig" };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(publicKey)), ...meta },
  };
}

/**
 * Imports the private JWK used to mint keys (e.g. the `SLUICE_SIGNING_KEY` secret).
 * `alg` may be omitted when the curve implies it.
 *
 * @example const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
 */
export async function importSigningKey(privateJwk: string | JWK): Promise<SigningKey> {
  const jwk = typeof privateJwk === "string" ? parseJson(privateJwk, "signing key") : privateJwk;
  if (!isPlainObject(jwk)) throw new InvalidSigningKeyError("signing key must be a JWK object");
  if (typeof jwk.d !== "string")
    throw new InvalidSigningKeyError("signing key is not a private JWK (no 'd')");
  const { kid, alg } = checkJwkShape(jwk, "signing key");
  try {
    const key = await importJWK(jwk as JWK, alg);
    return { kid, alg, key: key as CryptoKey };
  } catch {
    throw new InvalidSigningKeyError(`signing key '${kid}' could not be imported`);
  }
}

/** The public half of a private JWK, for publishing in the JWKS. */
export function publicJwkOf(privateJwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg } = privateJwk;
  return dropUndefined({ kty, crv, x, y, kid, alg, use: "sig" });
}

/**
 * Parses and checks the public key set used for verification (e.g. the `SLUICE_JWKS` variable):
 * `{"keys":[...]}` with unique kids, an allowed `alg` on each key and no private material.
 * Several kids is how signing keys rotate: mint with the new one, keep the old until its keys expire.
 *
 * @example const jwks = parseJwks(env.SLUICE_JWKS);
 */
export function parseJwks(json: string): JSONWebKeySet {
  const set = parseJson(json, "JWKS");
  if (!isPlainObject(set) || !Array.isArray(set.keys) || set.keys.length === 0) {
    throw new InvalidSigningKeyError('JWKS must be {"keys": [...]} with at least one key');
  }
  const seen = new Set<string>();
  const keys = set.keys.map((entry: unknown, index: number): JWK => {
    const where = `JWKS key #${index}`;
    if (!isPlainObject(entry)) throw new InvalidSigningKeyError(`${where} is not an object`);
    if ("d" in entry || "p" in entry || "k" in entry) {
      throw new InvalidSigningKeyError(
        `${where} holds private or secret key material: publish only public keys`,
      );
    }
    const { kid, alg } = checkJwkShape(entry, where);
    if (seen.has(kid)) throw new InvalidSigningKeyError(`${where}: duplicate kid '${kid}'`);
    seen.add(kid);
    return { ...entry, alg } as JWK;
  });
  return { keys };
}

/** The kid and algorithm of a JWK whose type and curve fit an allowed algorithm. */
function checkJwkShape(jwk: Record<string, unknown>, where: string): { kid: string; alg: SigningAlgorithm } {
  if (typeof jwk.kid !== "string" || jwk.kid === "") throw new InvalidSigningKeyError(`${where} has no kid`);
  const alg = jwk.alg ?? algForCurve(jwk.crv);
  if (!isSigningAlgorithm(alg)) {
    throw new InvalidSigningKeyError(`${where}: alg must be one of ${SIGNING_ALGORITHMS.join(", ")}`);
  }
  const shape = KEY_SHAPE[alg];
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv) {
    throw new InvalidSigningKeyError(`${where}: ${alg} needs kty ${shape.kty} and crv ${shape.crv}`);
  }
  if (jwk.use !== undefined && jwk.use !== "sig")
    throw new InvalidSigningKeyError(`${where}: use must be "sig"`);
  return { kid: jwk.kid, alg };
}

function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return SIGNING_ALGORITHMS.includes(value as SigningAlgorithm);
}

function algForCurve(crv: unknown): SigningAlgorithm | undefined {
  return (Object.keys(KEY_SHAPE) as SigningAlgorithm[]).find((alg) => KEY_SHAPE[alg].crv === crv);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Deliberately not echoing the text or the parser's message: it may quote key material.
    throw new InvalidSigningKeyError(`${what} is not valid JSON`);
  }
}

function defaultKid(): string {
  const date = new Date().toISOString().slice(0, 10);
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${date}-${toHex(random)}`;
}
