/** Every sluice key starts with this, so secret scanners and humans recognise one. */
export const KEY_PREFIX = "sk-sluice-";

/** header.payload.signature in base64url; the signature may be empty so `alg: none` is refused by name. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** True when the text has the shape of a compact JWS (nothing decoded). */
export function isCompactJws(text: string): boolean {
  return COMPACT_JWS.test(text);
}

/** True when the text carries the sluice key prefix. */
export function isSluiceKey(text: string): boolean {
  return text.startsWith(KEY_PREFIX);
}
