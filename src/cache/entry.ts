import { toBase64 } from "../encoding";
import type { TokenUsage } from "../providers";

/** A stored answer: always the OpenAI-shaped body, rendered in the caller's format when served. */
export interface CacheEntry {
  /** The OpenAI JSON answer (chat.completion, text_completion or embeddings list). */
  body: Record<string, unknown>;
  /** The usage it was metered at: what a hit saves. */
  usage: TokenUsage;
  provider: string;
  model: string;
  /** Ms since the epoch, for the `age` header. */
  storedAt: number;
}

/** Entries up to this many JSON characters are stored as plain JSON: gzip saves little on them
 * and costs a miss more CPU than the rest of its caching (measured with the bench's cache phase). */
const PLAIN_ENTRY_CHARS = 2048;

/**
 * An entry as stored: a small one as its JSON text (starts with `{`), a bigger one gzip
 * (CompressionStream) then base64 (the REST bridge carries text; base64 never starts with `{`).
 * @example await redis.set(key, await encodeEntry(entry), { ex: 600 })
 */
export async function encodeEntry(entry: CacheEntry): Promise<string> {
  const json = JSON.stringify(entry);
  if (json.length <= PLAIN_ENTRY_CHARS) return json;
  const stream = new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"));
  return toBase64(new Uint8Array(await new Response(stream).arrayBuffer()));
}

async function entryText(value: string): Promise<string> {
  if (value.startsWith("{")) return value;
  const bytes = Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

/**
 * Reads a stored entry back; null for nothing stored or anything malformed (treated as a miss).
 * @example const entry = await decodeEntry(admission.cached)
 */
export async function decodeEntry(value: unknown): Promise<CacheEntry | null> {
  if (typeof value !== "string" || value.length === 0) return null;
  try {
    const entry = JSON.parse(await entryText(value)) as CacheEntry;
    const ok =
      typeof entry?.body === "object" &&
      entry.body !== null &&
      typeof entry.usage?.promptTokens === "number" &&
      typeof entry.provider === "string" &&
      typeof entry.model === "string" &&
      typeof entry.storedAt === "number";
    return ok ? entry : null;
  } catch {
    return null;
  }
}
