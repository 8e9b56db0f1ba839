/** A reply value as it travels in Upstash's JSON: strings, integers, null and nested arrays. */
export type UpstashValue = string | number | null | UpstashValue[];

/**
 * Converts an ioredis buffer-mode reply into what Upstash's REST API sends. With base64 encoding
 * every string is base64, except a top-level bare "OK": @upstash/redis leaves that one undecoded
 * but decodes every string inside arrays, so nested ones are always encoded.
 */
export function toUpstashValue(reply: unknown, base64: boolean, topLevel = true): UpstashValue {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (Buffer.isBuffer(reply) || typeof reply === "string") {
    const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(reply);
    if (!base64) return bytes.toString("utf8");
    const text = bytes.toString("latin1");
    return topLevel && text === "OK" ? "OK" : bytes.toString("base64");
  }
  // An error nested in an array (a Lua table holding redis.error_reply) travels as its message.
  if (reply instanceof Error) return toUpstashValue(reply.message, base64, false);
  if (Array.isArray(reply)) return reply.map((item) => toUpstashValue(item, base64, false));
  // ioredis turns HGETALL into an object; Upstash sends the flat field/value list.
  if (typeof reply === "object") {
    return Object.entries(reply).flatMap(([field, value]) => [
      toUpstashValue(field, base64, false),
      toUpstashValue(value, base64, false),
    ]);
  }
  return toUpstashValue(String(reply), base64, topLevel);
}
