import type { ProviderError } from "../types";

/** Reads one vendor's error JSON as an OpenAI-shaped error, or null when the body is not one. */
export type ErrorBodyParser = (body: unknown) => ProviderError | null;

/**
 * A provider's error response reader, given the vendor's body parser: the JSON body the parser
 * recognises, else (a proxy's HTML page, an empty body, another vendor's JSON) a generic message
 * with the status. Every adapter's `parseError` is one of these.
 * @example const parseError = errorReader(parseAnthropicErrorBody); parseError(529, bodyText)
 */
export function errorReader(parseBody: ErrorBodyParser): (status: number, bodyText: string) => ProviderError {
  return (status, bodyText) => {
    try {
      const parsed = parseBody(JSON.parse(bodyText));
      if (parsed) return parsed;
    } catch {
      // Not JSON: the status speaks alone.
    }
    return { message: `Upstream returned HTTP ${status}.`, type: "api_error", code: null, param: null };
  };
}

/** The error a translator reports for a mid-stream failure event whose body it cannot read. */
export const UNREADABLE_STREAM_ERROR: ProviderError = Object.freeze({
  message: "The upstream stream failed.",
  type: "api_error",
  code: null,
  param: null,
});

/** Longest provider message passed on to a caller; a provider's text, so it gets a bound. */
const MAX_MESSAGE_CHARS = 2000;
/** Longest provider type or code kept: they name things, a few words at most. */
const MAX_NAME_CHARS = 100;

/**
 * A provider's error with its text bounded, for what the gateway passes on as it is (a mid-stream
 * error event, the usage row's error code).
 * @example boundedProviderError({ message: "x".repeat(10_000), type: "api_error", code: null, param: null }).message.length // 2000
 */
export function boundedProviderError(error: ProviderError): ProviderError {
  return {
    message: bounded(error.message, MAX_MESSAGE_CHARS),
    type: bounded(error.type, MAX_NAME_CHARS),
    code: error.code == null ? null : bounded(error.code, MAX_NAME_CHARS),
    param: error.param == null ? null : bounded(error.param, MAX_NAME_CHARS),
  };
}

/** Some OpenAI-compatible vendors send numbers where OpenAI sends strings (`"code": 500`). */
const bounded = (value: unknown, max: number): string => String(value).slice(0, max);
