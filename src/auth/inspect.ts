import { decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from "jose";
import { isCompactJws, isSluiceKey, KEY_PREFIX } from "./key-format";

export interface InspectedKey {
  /** Always false: inspection decodes, it does not verify. */
  verified: false;
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
}

/**
 * Decodes a key's header and claims WITHOUT verifying the signature, for operators and support.
 * The signature is not returned. Throws a TypeError when the text is not a JWT.
 *
 * @example inspectKey("sk-sluice-eyJ...").claims.sub // "acme"
 */
export function inspectKey(token: string): InspectedKey {
  const trimmed = token.trim();
  const jws = isSluiceKey(trimmed) ? trimmed.slice(KEY_PREFIX.length) : trimmed;
  if (!isCompactJws(jws)) throw new TypeError("not a sluice key or JWT");
  try {
    return { verified: false, header: decodeProtectedHeader(jws), claims: decodeJwt(jws) };
  } catch {
    throw new TypeError("not a sluice key or JWT: header or claims do not decode");
  }
}
