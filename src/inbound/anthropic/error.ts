import { anthropicErrorTypeOfStatus } from "../../providers/anthropic";

type Json = Record<string, unknown>;

/**
 * An OpenAI-shaped error (`{"error":{"message",...}}`, as an object or JSON text) as the body
 * Anthropic would send with the same status: `{"type":"error","error":{"type","message"}}`.
 * The Anthropic SDKs pick their exception class from the status, the type names the cause.
 * @example openAIErrorToAnthropic(429, { error: { message: "Slow down", type: "rate_limit_error" } })
 */
export function openAIErrorToAnthropic(
  status: number,
  openaiErrorBody: unknown,
): { type: "error"; error: { type: string; message: string } } {
  let body = openaiErrorBody;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      body = null;
    }
  }
  const error = ((body as Json | null)?.error ?? {}) as Json;
  const text = typeof error.message === "string" ? error.message : `Request failed with status ${status}.`;
  // Anthropic's body has no `param`: the message names the field instead, as Anthropic's own do.
  const param = typeof error.param === "string" && error.param !== "" ? error.param : null;
  const message = param && !text.includes(param) ? `${param}: ${text}` : text;
  return { type: "error", error: { type: anthropicErrorTypeOfStatus(status), message } };
}
