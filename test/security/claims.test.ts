import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { createKeyVerifier, importSigningKey, type KeyClaimsInput, mintKey } from "../../src/auth";
import { revokeKey } from "../../src/limits";
import { scopeForPath } from "../../src/proxy/scopes";
import { usageRows } from "../admin/support";
import { jwksOf, makeSigner, T0, T0_SECONDS } from "../auth/fixtures";
import { redis } from "../limits/support";
import { gateway, post } from "../support/gateway";

// Every claim a key carries is enforced on every route: its scopes per endpoint, its model
// patterns, its revocation and its rate limits, count_tokens included; and a token issued "in the
// future" is no key at all.

/** Calls this file's gateway made upstream (the mock's own log is shared with other files). */
let upstreamCalls = 0;
const gw = gateway(
  {
    routes: {
      "gpt-4o-mini": { targets: [{ provider: "mock", model: "gpt-4o-mini" }] },
      "text-embedding-3-small": { targets: [{ provider: "mock", model: "text-embedding-3-small" }] },
      "claude-sonnet-4-5": { targets: [{ provider: "mock-anthropic", model: "claude-sonnet-4-5" }] },
    },
  },
  {
    fetcher: (input, init) => {
      upstreamCalls++;
      return fetch(input, init);
    },
  },
);

interface TestKey {
  token: string;
  tenant: string;
  keyId: string;
}

/** A key of its own tenant (fresh limits and usage rows) with the given claims. */
async function keyWith(claims: Partial<KeyClaimsInput> = {}): Promise<TestKey> {
  const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
  const tenant = `claims-${crypto.randomUUID().slice(0, 8)}`;
  const { token, claims: signed } = await mintKey(
    signer,
    { tenant, plan: "enterprise", ...claims },
    { issuer: "sluice", audience: "sluice", expiresInSeconds: 3600 },
  );
  return { token, tenant, keyId: signed.jti };
}

const chatBody = { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], max_tokens: 8 };
const completionBody = { model: "gpt-4o-mini", prompt: "hi", max_tokens: 8 };
const embeddingBody = { model: "text-embedding-3-small", input: "hi" };
const messagesBody = {
  model: "claude-sonnet-4-5",
  max_tokens: 8,
  messages: [{ role: "user", content: "hi" }],
};
const countBody = { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "count these words" }] };

type Call = (key: string) => Promise<Response>;

/** One call per scope, as the route it guards. */
const CALLS: Record<
  "chat" | "completions" | "embeddings" | "messages" | "count_tokens" | "models" | "model",
  Call
> = {
  chat: (key) => gw.fetch("/v1/chat/completions", post(chatBody, key)),
  completions: (key) => gw.fetch("/v1/completions", post(completionBody, key)),
  embeddings: (key) => gw.fetch("/v1/embeddings", post(embeddingBody, key)),
  messages: (key) => gw.fetch("/v1/messages", post(messagesBody, key)),
  count_tokens: (key) => gw.fetch("/v1/messages/count_tokens", post(countBody, key)),
  models: (key) => gw.fetch("/v1/models", { headers: { authorization: `Bearer ${key}` } }),
  model: (key) => gw.fetch("/v1/models/gpt-4o-mini", { headers: { authorization: `Bearer ${key}` } }),
};

/** The scope each call needs. */
const NEEDS: Record<keyof typeof CALLS, string> = {
  chat: "chat",
  completions: "completions",
  embeddings: "embeddings",
  messages: "messages",
  count_tokens: "messages",
  models: "models",
  model: "models",
};

async function expectScopeRefused(res: Response, scope: string, what: string): Promise<void> {
  expect(res.status, what).toBe(403);
  const body = (await res.json()) as Record<string, Record<string, unknown>>;
  if (what === "messages" || what === "count_tokens") {
    // Anthropic's shape on its own route.
    expect(body, what).toMatchObject({ type: "error", error: { type: "permission_error" } });
  } else {
    expect(body.error, what).toMatchObject({ type: "permission_error", code: "scope_not_allowed" });
  }
  expect(body.error?.message, what).toContain(`'${scope}'`);
}

describe("scopes per endpoint", () => {
  it("a key scoped to embeddings is refused on chat with 403 scope_not_allowed, and served on embeddings", async () => {
    const key = await keyWith({ scopes: ["embeddings"] });
    const before = upstreamCalls;
    await expectScopeRefused(await CALLS.chat(key.token), "chat", "chat");
    // Refused before anything reached the provider.
    expect(upstreamCalls).toBe(before);
    expect((await CALLS.embeddings(key.token)).status).toBe(200);
  });

  it("a key with no scopes is refused everywhere", async () => {
    const key = await keyWith({ scopes: [] });
    for (const [what, call] of Object.entries(CALLS)) {
      await expectScopeRefused(await call(key.token), NEEDS[what as keyof typeof CALLS], what);
    }
  });

  it("each scope opens its own endpoints and no other", async () => {
    for (const scope of ["chat", "completions", "embeddings", "messages", "models"]) {
      const key = await keyWith({ scopes: [scope] });
      for (const [what, call] of Object.entries(CALLS)) {
        const res = await call(key.token);
        const needed = NEEDS[what as keyof typeof CALLS];
        if (needed === scope) expect(res.status, `${scope} on ${what}`).toBe(200);
        else await expectScopeRefused(res, needed, what);
      }
    }
  });

  it("scopes are globs, and the default key (every scope) is served everywhere", async () => {
    const globbed = await keyWith({ scopes: ["c*"] });
    expect((await CALLS.chat(globbed.token)).status).toBe(200);
    expect((await CALLS.completions(globbed.token)).status).toBe(200);
    await expectScopeRefused(await CALLS.embeddings(globbed.token), "embeddings", "embeddings");

    const everything = await keyWith();
    for (const [what, call] of Object.entries(CALLS))
      expect((await call(everything.token)).status, what).toBe(200);
  });

  it("a scope refusal is not a usage row: nothing was served", async () => {
    const key = await keyWith({ scopes: ["models"] });
    await CALLS.chat(key.token);
    expect(await usageRows(key.tenant)).toEqual([]);
  });

  it("every /v1 route of the app needs a scope", () => {
    const routes = createApp(gw.services).routes.filter(
      (route) => route.path.startsWith("/v1/") && route.method !== "ALL",
    );
    expect(routes.length).toBeGreaterThanOrEqual(7);
    for (const route of routes) {
      // A concrete path for a parametrised route: ":id{.+}" matches any model name.
      const path = route.path.replace(/:[a-z]+(\{[^}]*\})?/g, "some-model");
      expect(scopeForPath(path), `${route.method} ${route.path}`).not.toBeNull();
    }
  });
});

describe("count_tokens goes through the gate like any other call", () => {
  const count = (key: string, body: Record<string, unknown> = countBody) =>
    gw.fetch("/v1/messages/count_tokens", post(body, key));

  it("still counts for a valid key", async () => {
    const key = await keyWith();
    const res = await count(key.token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { input_tokens: number };
    expect(body.input_tokens).toBeGreaterThan(0);
  });

  it("refuses a revoked key with 401", async () => {
    const key = await keyWith();
    expect((await count(key.token)).status).toBe(200);
    await revokeKey(redis, key.keyId, Date.now() + 3_600_000);
    const res = await count(key.token);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });

  it("enforces the key's request rate: the 6th call of an rpm 5 key is 429", async () => {
    const key = await keyWith({ limits: { rpm: 5 } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await count(key.token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it("enforces the key's model patterns (403) and knows only routed models (404)", async () => {
    const key = await keyWith({ models: ["gpt-4o*"] });
    const refused = await count(key.token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ type: "error", error: { type: "permission_error" } });
    const unknown = await count(key.token, { ...countBody, model: "gpt-4o-unrouted" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  it("meters each call as one usage row at zero cost", async () => {
    const key = await keyWith();
    for (let i = 0; i < 3; i++) expect((await count(key.token)).status).toBe(200);
    const rows = await usageRows(key.tenant);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({
        endpoint: "count_tokens",
        requested_model: "claude-sonnet-4-5",
        status: 200,
      });
      expect(Number(row.cost_usd)).toBe(0);
    }
  });

  it("a refused call is metered with its status", async () => {
    const key = await keyWith({ limits: { rpm: 1 } });
    await count(key.token);
    expect((await count(key.token)).status).toBe(429);
    const rows = await usageRows(key.tenant);
    expect(rows.map((row) => row.status).sort()).toEqual([200, 429]);
  });
});

describe("a token issued in the future", () => {
  const TEN_YEARS = 10 * 365 * 86_400;

  it("is refused with the generic message through the API, though validly signed", async () => {
    const signer = await importSigningKey(env.SLUICE_SIGNING_KEY);
    const { token } = await mintKey(
      signer,
      { tenant: `future-${crypto.randomUUID().slice(0, 8)}` },
      { issuer: "sluice", audience: "sluice", now: Date.now() + TEN_YEARS * 1000 },
    );
    const res = await gw.fetch("/v1/chat/completions", post(chatBody, token));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: "Incorrect API key provided.",
        type: "authentication_error",
        param: null,
        code: "invalid_api_key",
      },
    });
  });

  it("is accepted within the verifier's clock skew and refused past it", async () => {
    const own = await makeSigner("own-iat");
    const verifier = createKeyVerifier({
      jwks: jwksOf(own),
      issuer: "sluice",
      audience: "sluice",
      now: () => T0,
      clockToleranceSeconds: 30,
      cacheSize: 0,
    });
    const at = async (offsetSeconds: number) =>
      (
        await mintKey(
          own.signer,
          { tenant: "t" },
          { issuer: "sluice", audience: "sluice", now: T0 + offsetSeconds * 1000 },
        )
      ).token;
    expect(await verifier.verify(await at(30))).toMatchObject({ ok: true });
    expect(await verifier.verify(await at(31))).toEqual({ ok: false, reason: "claims" });
    expect(await verifier.verify(await at(TEN_YEARS))).toEqual({ ok: false, reason: "claims" });
  });

  it("is refused from a trusted external issuer too", async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    const jwks: { keys: JWK[] } = {
      keys: [{ ...(await exportJWK(pair.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" }],
    };
    const own = await makeSigner("own-ext");
    const verifier = createKeyVerifier({
      jwks: jwksOf(own),
      issuer: "sluice",
      audience: "sluice",
      now: () => T0,
      cacheSize: 0,
      fetch: async () => Response.json(jwks),
      externalIssuers: [
        { issuer: "https://idp.example/", jwksUrl: "https://idp.example/jwks", audience: "sluice" },
      ],
    });
    const token = (iat: number) =>
      new SignJWT({
        iss: "https://idp.example/",
        aud: "sluice",
        sub: "user-1",
        iat,
        exp: iat + TEN_YEARS + 600,
      })
        .setProtectedHeader({ alg: "RS256", kid: "idp-1" })
        .sign(pair.privateKey);
    // Its users keep the default scopes (every scope).
    expect(await verifier.verify(await token(T0_SECONDS))).toMatchObject({
      ok: true,
      identity: { scopes: ["*"] },
    });
    expect(await verifier.verify(await token(T0_SECONDS + TEN_YEARS))).toEqual({
      ok: false,
      reason: "claims",
    });
  });
});
