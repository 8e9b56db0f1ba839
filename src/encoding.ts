/**
 * Lowercase hex of some bytes.
 * @example toHex(new Uint8Array([1, 171])) // "01ab"
 */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Standard base64 (with padding) of some bytes, of any size.
 * @example toBase64(new TextEncoder().encode("hi")) // "aGk="
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunked: String.fromCharCode takes its bytes as arguments, and arguments are bounded.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
