import type { ProviderError } from "../types";
import { openAIErrorOfType } from "./vocabulary";

/**
 * `{"type":"error","error":{"type","message"}}`, an error response's body or a stream's `error`
 * event, as an OpenAI-shaped error, or null if it is not one.
 * @example parseAnthropicErrorBody({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
 */
export function parseAnthropicErrorBody(body: unknown): ProviderError | null {
  const error = (body as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  if (!error || typeof error.message !== "string") return null;
  const { type, code } = openAIErrorOfType(typeof error.type === "string" ? error.type : "api_error");
  return { message: error.message, type, code, param: null };
}
