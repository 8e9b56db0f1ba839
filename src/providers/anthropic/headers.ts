import type { Target } from "../types";

/** The Messages API version every request pins (a native caller's own version replaces it). */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Request headers for Anthropic; the key goes in `x-api-key` only.
 * @example anthropicHeaders(target)["anthropic-version"] // "2023-06-01"
 */
export function anthropicHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
    ...target.headers,
  };
  if (target.apiKey) headers["x-api-key"] = target.apiKey;
  return headers;
}
