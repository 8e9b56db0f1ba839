/** POST /v1/embeddings: deterministic vectors, float or base64, with usage. */

import { mockEmbedding, toBase64Float32 } from "./embedding";
import { openaiFormat } from "./openai";
import { bodyModel, bodyObject, type Route } from "./route";
import { countMockTokens } from "./text";

/** Vector size when the request sets no `dimensions`: 3072 for "-large" models, else 1536. */
export function defaultOpenAIDimensions(model: string): number {
  return model.includes("large") ? 3072 : 1536;
}

/** The inputs of an embeddings request, each as text (token-id arrays joined by spaces) and its token count. */
export function embeddingInputs(input: unknown): { text: string; tokens: number }[] {
  const items =
    typeof input === "string" || (Array.isArray(input) && typeof input[0] === "number") ? [input] : input;
  if (!Array.isArray(items)) return [];
  return items.map((item) =>
    Array.isArray(item)
      ? { text: item.join(" "), tokens: item.length }
      : { text: String(item), tokens: countMockTokens(String(item)) },
  );
}

/**
 * Prompt tokens of an embeddings request: the sum of each input's word count, or of each
 * token-id array's length. No per-input overhead.
 */
export function mockEmbeddingTokens(input: unknown): number {
  return embeddingInputs(input).reduce((sum, i) => sum + i.tokens, 0);
}

/** POST /v1/embeddings */
export const embeddingsRoute: Route = {
  method: "POST",
  pattern: /^\/v1\/embeddings$/,
  format: openaiFormat,
  rawModel: bodyModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.model === "") return ctx.exchange.error(400, "you must provide a model parameter");
    const inputs = embeddingInputs(body.input);
    if (inputs.length === 0) return ctx.exchange.error(400, "'input' is a required property");
    const dimensions =
      typeof body.dimensions === "number" ? body.dimensions : defaultOpenAIDimensions(ctx.model);
    const base64 = body.encoding_format === "base64";
    const tokens = mockEmbeddingTokens(body.input);
    return ctx.exchange.json({
      object: "list",
      data: inputs.map((input, index) => {
        const vector = mockEmbedding(input.text, dimensions);
        return { object: "embedding", index, embedding: base64 ? toBase64Float32(vector) : vector };
      }),
      model: ctx.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  },
};
