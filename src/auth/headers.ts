const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The API key a client sent: `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>`
 * (Anthropic SDKs). Authorization wins when both are present. Null when neither holds a key.
 *
 * @example extractToken(new Headers({ "x-api-key": "sk-sluice-..." })) // "sk-sluice-..."
 */
export function extractToken(headers: Headers): string | null {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = BEARER.exec(authorization.trim());
    if (match?.[1]) return match[1];
  }
  const apiKey = headers.get("x-api-key")?.trim();
  return apiKey ? apiKey : null;
}
