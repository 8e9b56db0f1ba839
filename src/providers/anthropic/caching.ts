import type { ProviderAdapter, UpstreamRequest } from "../types";

type Json = Record<string, unknown>;

/** Anthropic caches at most this many breakpoints per request. */
export const MAX_CACHE_BREAKPOINTS = 4;

/** The TTL of the breakpoints the gateway adds. */
export type CacheTtl = "5m" | "1h";

/**
 * The Anthropic adapter for a route with `prompt_caching`: translated (OpenAI-format) requests get
 * cache breakpoints on their stable prefix before they are sent (see `addCacheBreakpoints`).
 * @example const adapter = withPromptCaching(adapterFor("anthropic"), "5m")
 */
export function withPromptCaching(adapter: ProviderAdapter, ttl: CacheTtl): ProviderAdapter {
  return {
    ...adapter,
    buildRequest(endpoint, body, target, stream): UpstreamRequest {
      const request = adapter.buildRequest(endpoint, body, target, stream);
      if (typeof request.init.body !== "string") return request;
      const messages = JSON.parse(request.init.body) as Json;
      addCacheBreakpoints(messages, ttl);
      return { ...request, init: { ...request.init, body: JSON.stringify(messages) } };
    },
  };
}

/**
 * Marks the stable prefix of an Anthropic Messages body with `cache_control`, most valuable
 * first: the end of the system prompt (it caches the tools before it too, else the last tool),
 * the end of the conversation (the next turn reads it), the end of the previous user turn (what
 * this turn reads from the last one's mark), then the last tool. Breakpoints the caller set count
 * against the limit of four and are never moved.
 * @example addCacheBreakpoints(body, "5m"); body.system // [{ type: "text", text, cache_control: { type: "ephemeral" } }]
 */
export function addCacheBreakpoints(body: Json, ttl: CacheTtl): void {
  let budget = MAX_CACHE_BREAKPOINTS - countBreakpoints(body);
  const marker = ttl === "1h" ? { type: "ephemeral", ttl: "1h" } : { type: "ephemeral" };
  const mark = (block: Json | undefined) => {
    if (!block || budget <= 0 || block.cache_control) return;
    block.cache_control = { ...marker };
    budget--;
  };
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
  if (typeof body.system === "string") body.system = [{ type: "text", text: body.system }];
  const system = Array.isArray(body.system) ? (body.system as Json[]) : [];
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const users = messages.flatMap((m, i) => (m.role === "user" ? [i] : []));
  mark(system.at(-1) ?? tools.at(-1));
  mark(lastBlock(messages.at(-1)));
  const previousUser = users.at(-2);
  if (previousUser !== undefined) mark(lastBlock(messages[previousUser]));
  mark(tools.at(-1));
}

/** The last content block of a message (a string content becomes one text block). */
function lastBlock(message: Json | undefined): Json | undefined {
  if (!message) return undefined;
  if (typeof message.content === "string") message.content = [{ type: "text", text: message.content }];
  return Array.isArray(message.content) ? (message.content.at(-1) as Json | undefined) : undefined;
}

/** Breakpoints already in the body (the caller's own `cache_control` on parts). */
function countBreakpoints(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countBreakpoints(item), 0);
  if (value === null || typeof value !== "object") return 0;
  let found = 0;
  for (const [key, inner] of Object.entries(value)) {
    found += key === "cache_control" && inner ? 1 : countBreakpoints(inner);
  }
  return found;
}
