type Json = Record<string, unknown>;

const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [400, "INVALID_ARGUMENT"],
  [401, "UNAUTHENTICATED"],
  [403, "PERMISSION_DENIED"],
  [404, "NOT_FOUND"],
  [405, "INVALID_ARGUMENT"],
  [408, "DEADLINE_EXCEEDED"],
  [409, "ABORTED"],
  [413, "INVALID_ARGUMENT"],
  [429, "RESOURCE_EXHAUSTED"],
  [499, "CANCELLED"],
  [500, "INTERNAL"],
  [501, "UNIMPLEMENTED"],
  [502, "UNAVAILABLE"],
  [503, "UNAVAILABLE"],
  [504, "DEADLINE_EXCEEDED"],
]);

/**
 * An OpenAI-shaped error as the body Google's APIs send with the same status:
 * `{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}` (the Google SDKs read
 * the status and message). The parameter, when known, is named in the message.
 * @example openAIErrorToGemini(404, { error: { message: "No such model", type: "invalid_request_error" } })
 */
export function openAIErrorToGemini(
  status: number,
  openaiErrorBody: unknown,
): { error: { code: number; message: string; status: string } } {
  const error = ((openaiErrorBody as Json | null)?.error ?? {}) as Json;
  const text = typeof error.message === "string" ? error.message : `Request failed with status ${status}.`;
  const param = typeof error.param === "string" && error.param !== "" ? error.param : null;
  const message = param && !text.includes(param) ? `${param}: ${text}` : text;
  const name = STATUS_NAMES.get(status) ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
  return { error: { code: status, message, status: name } };
}
