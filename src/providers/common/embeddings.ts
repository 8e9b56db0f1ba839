import { toBase64 } from "../../encoding";

/**
 * Re-encodes an OpenAI embeddings body for `encoding_format: "base64"` (little-endian float32,
 * as OpenAI sends it): needed for every upstream that answers with number arrays regardless,
 * Gemini included. The official `openai` SDK asks for base64 by default and cannot read arrays
 * then. Embeddings already strings are left alone.
 * @example encodeEmbeddingsBase64({ object: "list", data: [{ embedding: [0.5] }] })
 */
export function encodeEmbeddingsBase64(body: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(body.data)) return body;
  const data = (body.data as { embedding?: unknown }[]).map((item) =>
    Array.isArray(item.embedding) ? { ...item, embedding: float32Base64(item.embedding as number[]) } : item,
  );
  return { ...body, data };
}

function float32Base64(values: number[]): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (const [i, value] of values.entries()) view.setFloat32(i * 4, value, true);
  return toBase64(bytes);
}
