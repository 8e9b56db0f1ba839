/** Deterministic embedding vectors: the same text always gives the same unit vector. */

/** FNV-1a hash of a string, used as the seed of the text's vector. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a tiny seeded PRNG, enough to spread values over [-1, 1). */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A unit-length vector of `dimensions` numbers (6 decimals) that depends only on the text.
 * @example mockEmbedding("hello", 4).length // 4
 */
export function mockEmbedding(text: string, dimensions: number): number[] {
  const next = mulberry32(fnv1a(text));
  const raw = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.sqrt(raw.reduce((sum, v) => sum + v * v, 0)) || 1;
  return raw.map((v) => Math.round((v / norm) * 1e6) / 1e6);
}

/** Encodes a vector the way OpenAI's `encoding_format: "base64"` does: little-endian float32 bytes. */
export function toBase64Float32(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}
