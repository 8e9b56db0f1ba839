import { toHex } from "../encoding";

/**
 * The `sluice-signature` header of a webhook, Stripe's scheme: `t=<unix seconds>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>">`. Receivers recompute it with the shared secret and reject old
 * timestamps (replays).
 * @example await signatureHeader(secret, body, 1767225600) // "t=1767225600,v1=5f2b..."
 */
export async function signatureHeader(secret: string, body: string, unixSeconds: number): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${unixSeconds}.${body}`));
  return `t=${unixSeconds},v1=${toHex(new Uint8Array(mac))}`;
}
