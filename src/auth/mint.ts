import { SignJWT } from "jose";
import { type KeyClaims, type KeyClaimsInput, parseKeyClaimsInput } from "./claims";
import { dropUndefined } from "./drop-undefined";
import { KEY_PREFIX } from "./key-format";
import type { SigningKey } from "./signing-keys";

export interface MintOptions {
  issuer: string;
  audience: string;
  /** Lifetime in seconds; without it the key never expires (revoke it instead). */
  expiresInSeconds?: number;
  /** Milliseconds since the epoch, like `Date.now()`; for tests and back-dating. */
  now?: number;
}

export interface MintedKey {
  /** `sk-sluice-` + compact JWS. Show it once; store only `claims`. */
  token: string;
  claims: KeyClaims;
}

/**
 * Signs a new API key. Scopes and models default to `["*"]`, the key id to a random UUID.
 * Throws `InvalidKeyClaimsError` for bad input.
 *
 * @example
 * const { token, claims } = await mintKey(signer, { tenant: "acme", models: ["gpt-4o*"] },
 *   { issuer: "sluice", audience: "sluice", expiresInSeconds: 30 * 86400 });
 */
export async function mintKey(
  signer: SigningKey,
  input: KeyClaimsInput,
  opts: MintOptions,
): Promise<MintedKey> {
  const valid = parseKeyClaimsInput(input);
  if (!opts.issuer || !opts.audience) throw new TypeError("mintKey needs a non-empty issuer and audience");
  const { expiresInSeconds } = opts;
  if (expiresInSeconds !== undefined && !(Number.isSafeInteger(expiresInSeconds) && expiresInSeconds > 0)) {
    throw new TypeError("expiresInSeconds must be a positive integer");
  }
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const claims: KeyClaims = dropUndefined({
    iss: opts.issuer,
    aud: opts.audience,
    sub: valid.tenant,
    jti: valid.keyId ?? crypto.randomUUID(),
    iat,
    nbf: valid.notBefore,
    exp: expiresInSeconds === undefined ? undefined : iat + expiresInSeconds,
    name: valid.name,
    scopes: valid.scopes ?? ["*"],
    models: valid.models ?? ["*"],
    plan: valid.plan,
    limits: valid.limits && dropUndefined(valid.limits),
  });
  const jws = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "JWT" })
    .sign(signer.key);
  return { token: KEY_PREFIX + jws, claims };
}
