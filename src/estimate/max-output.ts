import type { Endpoint } from "../providers/types";

/**
 * The output-token cap the caller set for one choice, or null when it set none (the route's
 * default applies). Chat: `max_completion_tokens` wins over the older `max_tokens`; completions
 * know only `max_tokens`; Responses `max_output_tokens`; embeddings generate nothing.
 * @example maxOutputTokens("chat", { max_tokens: 100 }) // 100
 */
export function maxOutputTokens(endpoint: Endpoint, body: Record<string, unknown>): number | null {
  if (endpoint === "embeddings") return 0;
  if (endpoint === "responses") {
    return typeof body.max_output_tokens === "number" ? body.max_output_tokens : null;
  }
  const value = endpoint === "chat" ? (body.max_completion_tokens ?? body.max_tokens) : body.max_tokens;
  return typeof value === "number" ? value : null;
}
