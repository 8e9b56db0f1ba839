/** GET /v1/models and GET /v1/models/:id: a fixed model list; any id can be retrieved. */

import { openaiFormat } from "./openai";
import type { Route } from "./route";

/** The ids GET /v1/models lists. */
export const MOCK_MODEL_IDS = [
  "gpt-4.1",
  "gpt-4.1-mini",
  "gpt-4o",
  "gpt-4o-mini",
  "gpt-5",
  "gpt-5-mini",
  "o4-mini",
  "text-embedding-3-small",
  "text-embedding-3-large",
  "deepseek-chat",
  "deepseek-reasoner",
];

// A fixed date keeps the list byte-for-byte stable between runs.
const CREATED = 1_700_000_000;

function modelObject(id: string): Record<string, unknown> {
  return {
    id,
    object: "model",
    created: CREATED,
    owned_by: id.startsWith("deepseek") ? "deepseek" : "openai",
  };
}

/** GET /v1/models */
export const listModelsRoute: Route = {
  method: "GET",
  pattern: /^\/v1\/models$/,
  format: openaiFormat,
  rawModel: () => "",
  async handle(ctx) {
    return ctx.exchange.json({ object: "list", data: MOCK_MODEL_IDS.map(modelObject) });
  },
};

/** GET /v1/models/:id */
export const retrieveModelRoute: Route = {
  method: "GET",
  pattern: /^\/v1\/models\/([^/]+)$/,
  format: openaiFormat,
  rawModel: (params) => decodeURIComponent(params[0] ?? ""),
  async handle(ctx) {
    return ctx.exchange.json(modelObject(ctx.model));
  },
};
