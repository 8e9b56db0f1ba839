import type { Target, UpstreamRequest } from "../types";

/**
 * Request headers for Gemini; the key goes in `x-goog-api-key`, never in the URL.
 * @example geminiHeaders(target)["x-goog-api-key"]
 */
export function geminiHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", ...target.headers };
  if (target.apiKey) headers["x-goog-api-key"] = target.apiKey;
  return headers;
}

/**
 * A JSON POST to Gemini.
 * @example post(`${target.baseUrl}/models/m:generateContent`, target, body)
 */
export function post(url: string, target: Target, body: Record<string, unknown>): UpstreamRequest {
  return { url, init: { method: "POST", headers: geminiHeaders(target), body: JSON.stringify(body) } };
}

/**
 * The model id as a URL path segment; config may name it with or without the `models/` prefix.
 * @example modelPath("models/gemini-2.5-flash") // "gemini-2.5-flash"
 */
export function modelPath(model: string): string {
  return encodeURIComponent(model.replace(/^models\//, ""));
}
