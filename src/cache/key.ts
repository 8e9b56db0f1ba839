import { hexDigest } from "../digest";

/** Every response-cache key starts with this; a tenant's keys share `sluice:rc:<tenant hash>:`. */
export const CACHE_PREFIX = "sluice:rc:";

/** Fields that change how an answer is delivered or attributed, not what it says. */
const IGNORED_FIELDS = new Set(["stream", "stream_options", "user", "metadata"]);

/**
 * The Redis key of a request's cached answer: `sluice:rc:<tenant>:<route>:<request>`, each part a
 * SHA-256 (caller values are only ever hashed), so an admin can SCAN one tenant's or one route's
 * entries by prefix or pattern. The request part covers the endpoint and the body in canonical form
 * (keys sorted, no whitespace, delivery fields left out). Null when the body cannot be serialised.
 * @example await cacheKey({ tenant: "acme", route: "gpt-4o-mini", endpoint: "chat", body })
 */
export async function cacheKey(input: {
  tenant: string;
  route: string;
  endpoint: string;
  body: Record<string, unknown>;
}): Promise<string | null> {
  const canonical = canonicalBody(input.body);
  if (canonical === null) return null;
  const [tenant, route, request] = await Promise.all([
    tenantHash(input.tenant),
    routeHash(input.route),
    hexDigest("SHA-256", `${input.endpoint}\n${canonical}`),
  ]);
  return `${CACHE_PREFIX}${tenant}:${route}:${request}`;
}

/**
 * The SCAN pattern matching a tenant's entries, a route's, or one route's of one tenant.
 * @example await purgePattern({ tenant: "acme" }) // "sluice:rc:<sha>:*"
 */
export async function purgePattern(scope: { tenant?: string; route?: string }): Promise<string> {
  const tenant = scope.tenant === undefined ? "*" : await tenantHash(scope.tenant);
  const route = scope.route === undefined ? "*" : await routeHash(scope.route);
  return `${CACHE_PREFIX}${tenant}:${route}:*`;
}

const tenantHash = (tenant: string) => shortHash(`tenant\n${tenant}`);
const routeHash = (route: string) => shortHash(`route\n${route}`);

/** Tenant and route hashes repeat on every request: kept per isolate, bounded (cleared when full). */
const shortHashes = new Map<string, string>();
const MAX_SHORT_HASHES = 10_000;

async function shortHash(text: string): Promise<string> {
  const known = shortHashes.get(text);
  if (known !== undefined) return known;
  const hash = (await hexDigest("SHA-256", text)).slice(0, 32);
  if (shortHashes.size >= MAX_SHORT_HASHES) shortHashes.clear();
  shortHashes.set(text, hash);
  return hash;
}

/**
 * The body as JSON with every object's keys sorted and the top-level delivery fields dropped;
 * null when nested deeper than any real request (not cached then).
 * @example canonicalBody({ b: 1, a: 2, stream: true }) // '{"a":2,"b":1}'
 */
export function canonicalBody(body: Record<string, unknown>): string | null {
  const kept = Object.keys(body).filter((k) => !IGNORED_FIELDS.has(k));
  const parts: string[] = [];
  for (const k of kept.sort()) {
    const value = canonical(body[k], 1);
    if (value === TOO_DEEP) return null;
    if (value !== undefined) parts.push(`${JSON.stringify(k)}:${value}`);
  }
  return `{${parts.join(",")}}`;
}

const MAX_DEPTH = 64;
const TOO_DEEP = "\u0000too-deep";

/** One value in canonical JSON (undefined for a value JSON leaves out), or TOO_DEEP. */
function canonical(value: unknown, depth: number): string | undefined {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (depth > MAX_DEPTH) return TOO_DEEP;
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = canonical(item, depth + 1);
      if (text === TOO_DEEP) return TOO_DEEP;
      parts.push(text ?? "null");
    }
    return `[${parts.join(",")}]`;
  }
  for (const k of Object.keys(value).sort()) {
    const text = canonical((value as Record<string, unknown>)[k], depth + 1);
    if (text === TOO_DEEP) return TOO_DEEP;
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(",")}}`;
}
