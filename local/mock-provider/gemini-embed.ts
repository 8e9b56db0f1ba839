/** Gemini embedContent and batchEmbedContents: deterministic vectors in Google's shape. */

import { mockEmbedding } from "./embedding";
import { geminiFormat, geminiPathModel } from "./gemini";
import { textOfContent } from "./reply";
import { bodyObject, type Route } from "./route";

/** Vector size when the request sets no outputDimensionality. */
export const DEFAULT_GEMINI_DIMENSIONS = 768;

function embed(request: Record<string, unknown>): { values: number[] } {
  const text = textOfContent((request.content as { parts?: unknown } | undefined)?.parts).join(" ");
  const dims = typeof request.outputDimensionality === "number" ? request.outputDimensionality : undefined;
  return { values: mockEmbedding(text, dims ?? DEFAULT_GEMINI_DIMENSIONS) };
}

/** POST /v1beta/models/{model}:embedContent and :batchEmbedContents */
export const embedContentRoute: Route = {
  method: "POST",
  pattern: /^\/(?:v1beta|v1)\/models\/([^/:]+):(embedContent|batchEmbedContents)$/,
  format: geminiFormat,
  rawModel: geminiPathModel,
  async handle(ctx) {
    const body = bodyObject(ctx.body);
    if (ctx.params[1] === "embedContent") {
      if (body.content === undefined)
        return ctx.exchange.error(400, "* EmbedContentRequest.content: content is not specified");
      return ctx.exchange.json({ embedding: embed(body) });
    }
    if (!Array.isArray(body.requests))
      return ctx.exchange.error(400, "* BatchEmbedContentsRequest.requests: requests is not specified");
    // As Gemini does: a request that names a model names the model of the URL.
    const expected = `models/${geminiPathModel(ctx.params)}`;
    const wrong = body.requests.findIndex((r) => {
      const model = bodyObject(r).model;
      return model !== undefined && model !== expected;
    });
    if (wrong >= 0) {
      return ctx.exchange.error(
        400,
        `Model names should match in the request and in the path: requests[${wrong}].model is not ${expected}.`,
      );
    }
    return ctx.exchange.json({ embeddings: body.requests.map((r) => embed(bodyObject(r))) });
  },
};
