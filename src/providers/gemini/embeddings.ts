import { count } from "../common/chat-response";
import { invalidField, UnsupportedFeatureError } from "../common/errors";
import type { ResponseContext } from "../types";

/**
 * An OpenAI embeddings body as a Gemini request: one string goes to `:embedContent`, a list to
 * `:batchEmbedContents`; `dimensions` becomes `outputDimensionality`. Token-id input has no
 * Gemini equivalent and is refused.
 * @example buildEmbeddingsRequest({ input: "hello" }, "gemini-embedding-001")
 */
export function buildEmbeddingsRequest(
  body: Record<string, unknown>,
  model: string,
): { method: "embedContent" | "batchEmbedContents"; body: Record<string, unknown> } {
  const dimensions = typeof body.dimensions === "number" ? { outputDimensionality: body.dimensions } : {};
  const content = (text: string) => ({ parts: [{ text }] });
  if (typeof body.input === "string") {
    return { method: "embedContent", body: { content: content(body.input), ...dimensions } };
  }
  if (!Array.isArray(body.input) || body.input.length === 0) {
    throw invalidField("`input` must be a string or a non-empty array of strings.", "input");
  }
  const requests = body.input.map((text, i) => {
    if (typeof text !== "string") {
      throw new UnsupportedFeatureError("Gemini embeds text only, not token ids.", `input[${i}]`);
    }
    return { model: `models/${model}`, content: content(text), ...dimensions };
  });
  return { method: "batchEmbedContents", body: { requests } };
}

/**
 * A Gemini embeddings answer (`embedding` or `embeddings`) as an OpenAI embeddings list. Gemini
 * reports no token counts for embeddings, so usage is null and the body has none: the proxy
 * estimates it and fills `usage` in.
 */
export function parseEmbeddings(
  json: unknown,
  ctx: ResponseContext,
): { body: Record<string, unknown>; usage: null } {
  const response = (json ?? {}) as {
    embedding?: { values?: number[] };
    embeddings?: { values?: number[] }[];
  };
  const vectors = response.embeddings ?? (response.embedding ? [response.embedding] : []);
  const data = vectors.map((vector, index) => ({
    object: "embedding",
    index,
    embedding: (vector.values ?? []).map(count),
  }));
  return { body: { object: "list", data, model: ctx.requestedModel }, usage: null };
}
