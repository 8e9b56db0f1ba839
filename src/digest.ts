import { toHex } from "./encoding";

const encoder = new TextEncoder();

/**
 * A digest of a UTF-8 string (Web Crypto).
 * @example const bytes = await digest("SHA-256", "abc") // 32 bytes
 */
export async function digest(algorithm: "SHA-1" | "SHA-256", text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(algorithm, encoder.encode(text)));
}

/**
 * A digest of a UTF-8 string as lowercase hex: cache keys, Lua script SHAs.
 * @example await hexDigest("SHA-1", "return 1") // "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
 */
export async function hexDigest(algorithm: "SHA-1" | "SHA-256", text: string): Promise<string> {
  return toHex(await digest(algorithm, text));
}
