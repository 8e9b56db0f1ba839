/** The mock's route table and path matching. */

import { countTokensRoute, messagesRoute } from "./anthropic";
import { countTokensRoute as geminiCountTokensRoute, geminiFormat, generateContentRoute } from "./gemini";
import { embedContentRoute } from "./gemini-embed";
import { openaiFormat } from "./openai";
import { chatCompletionsRoute } from "./openai-chat";
import { completionsRoute } from "./openai-completions";
import { embeddingsRoute } from "./openai-embeddings";
import { listModelsRoute, retrieveModelRoute } from "./openai-models";
import { responsesRoute } from "./openai-responses";
import type { ProviderFormat, Route } from "./route";

/** Every provider endpoint the mock serves. */
export const ROUTES: Route[] = [
  chatCompletionsRoute,
  completionsRoute,
  embeddingsRoute,
  listModelsRoute,
  retrieveModelRoute,
  responsesRoute,
  messagesRoute,
  countTokensRoute,
  generateContentRoute,
  geminiCountTokensRoute,
  embedContentRoute,
];

/** The route for a method and path, with the path pattern's captures. */
export function matchRoute(method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1) };
  }
  return undefined;
}

/** The wire format to answer an unknown path in: Gemini under /v1beta, OpenAI elsewhere. */
export function formatForPath(path: string): ProviderFormat {
  return path.startsWith("/v1beta/") ? geminiFormat : openaiFormat;
}
