import { env } from "cloudflare:workers";
import { importSigningKey, mintKey } from "../../src/auth";
import type { TestGateway } from "../support/gateway";

/** A key of a tenant of its own (enterprise plan, every scope), so a test reads back only its rows. */
export async function tenantKey(prefix: string, scopes?: string[]): Promise<{ tenant: string; key: string }> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const { token } = await mintKey(
    signer,
    { tenant, name: prefix, plan: "enterprise", ...(scopes ? { scopes } : {}) },
    { issuer: "sluice", audience: "sluice" },
  );
  return { tenant, key: token };
}

/** A fetch for SDKs: every call goes to the test gateway in this isolate (path and query kept). */
export function fetchVia(gw: TestGateway): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    return gw.fetch(url.pathname + url.search, {
      method: request.method,
      headers: request.headers,
      body: request.method === "GET" ? undefined : await request.text(),
      signal: init?.signal,
    });
  }) as typeof fetch;
}
