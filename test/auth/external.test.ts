import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  createKeyVerifier,
  type ExternalIssuer,
  type JwksFetch,
  KEY_PREFIX,
  type KeyVerifier,
} from "../../src/auth";
import { AUDIENCE, ISSUER, jwksOf, makeSigner, T0, T0_SECONDS, type TestSigner } from "./fixtures";

const IDP = "https://idp.example/";
const IDP_AUDIENCE = "sluice-gateway";
const JWKS_URL = "https://idp.example/.well-known/jwks.json";

let own: TestSigner;
let idpKey: CryptoKey;
let idpJwks: { keys: JWK[] };

beforeAll(async () => {
  own = await makeSigner("own-1");
  const pair = await generateKeyPair("RS256", { extractable: true });
  idpKey = pair.privateKey;
  idpJwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" }] };
});

/** A stand-in for the IdP's JWKS endpoint that records each download. */
function jwksEndpoint(respond: () => Response = () => Response.json(idpJwks)) {
  const calls: string[] = [];
  const fetch: JwksFetch = async (url) => {
    calls.push(url);
    return respond();
  };
  return { fetch, calls };
}

function externalVerifier(fetch: JwksFetch, overrides: Partial<ExternalIssuer> = {}): KeyVerifier {
  return createKeyVerifier({
    jwks: jwksOf(own),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: () => T0,
    fetch,
    externalIssuers: [
      {
        issuer: IDP,
        jwksUrl: JWKS_URL,
        audience: IDP_AUDIENCE,
        tenantClaim: "org_id",
        planClaim: "tier",
        defaultPlan: "free",
        models: ["gpt-4o-mini"],
        scopes: ["chat"],
        ...overrides,
      },
    ],
  });
}

function idpToken(
  claims: Record<string, unknown>,
  header: { alg: string; kid?: string } = { alg: "RS256", kid: "idp-1" },
) {
  return new SignJWT({
    iss: IDP,
    aud: IDP_AUDIENCE,
    sub: "user-7",
    org_id: "org_42",
    iat: T0_SECONDS,
    exp: T0_SECONDS + 300,
    ...claims,
  })
    .setProtectedHeader(header)
    .sign(idpKey);
}

async function reasonOf(verifier: KeyVerifier, token: string) {
  const result = await verifier.verify(token);
  return result.ok ? "ok" : result.reason;
}

describe("trusted external issuers", () => {
  it("maps a provider's token to an external identity, fetching its JWKS once", async () => {
    const endpoint = jwksEndpoint();
    const verifier = externalVerifier(endpoint.fetch);

    const result = await verifier.verify(await idpToken({ tier: "team" }));
    expect(result).toEqual({
      ok: true,
      identity: {
        tenant: "org_42",
        keyId: "user-7",
        name: null,
        scopes: ["chat"],
        models: ["gpt-4o-mini"],
        plan: "team",
        limits: {},
        expiresAt: T0_SECONDS + 300,
        issuedAt: T0_SECONDS,
        issuer: IDP,
        external: true,
      },
    });
    expect(endpoint.calls).toEqual([JWKS_URL]);

    // Another user's token: new signature check, but the key set is already in memory.
    const other = await verifier.verify(await idpToken({ sub: "user-8", jti: "tok-1" }));
    expect(other.ok && other.identity).toMatchObject({ keyId: "tok-1", plan: "free" });
    expect(endpoint.calls).toHaveLength(1);
  });

  it("a repeated external token is a cache hit with no network I/O", async () => {
    const endpoint = jwksEndpoint();
    const verifier = externalVerifier(endpoint.fetch);
    const token = await idpToken({});
    await verifier.verify(token);
    await verifier.verify(token);
    expect(verifier.stats()).toMatchObject({ hits: 1, misses: 1 });
    expect(endpoint.calls).toHaveLength(1);
  });

  it("refuses tokens from unconfigured issuers without fetching anything", async () => {
    const endpoint = jwksEndpoint();
    const verifier = externalVerifier(endpoint.fetch);
    expect(await reasonOf(verifier, await idpToken({ iss: "https://elsewhere.example/" }))).toBe(
      "unknown_issuer",
    );
    expect(endpoint.calls).toHaveLength(0);
  });

  it("checks audience, the tenant claim, exp, algorithm and kid", async () => {
    const verifier = externalVerifier(jwksEndpoint().fetch);
    expect(await reasonOf(verifier, await idpToken({ aud: "someone-else" }))).toBe("audience");
    expect(await reasonOf(verifier, await idpToken({ org_id: undefined }))).toBe("claims");
    expect(await reasonOf(verifier, await idpToken({ exp: undefined }))).toBe("claims");
    expect(await reasonOf(verifier, await idpToken({ exp: T0_SECONDS - 3600 }))).toBe("expired");
    expect(await reasonOf(verifier, await idpToken({}, { alg: "RS256", kid: "idp-unknown" }))).toBe(
      "unknown_kid",
    );

    const hmac = await new SignJWT({ iss: IDP, aud: IDP_AUDIENCE, org_id: "org_42", exp: T0_SECONDS + 60 })
      .setProtectedHeader({ alg: "HS256", kid: "idp-1" })
      .sign(new TextEncoder().encode(JSON.stringify(idpJwks)));
    expect(await reasonOf(verifier, hmac)).toBe("alg");
  });

  it("reports an unreachable JWKS as issuer_unavailable, not as a bad key", async () => {
    const down = jwksEndpoint(() => new Response("upstream down", { status: 503 }));
    expect(await reasonOf(externalVerifier(down.fetch), await idpToken({}))).toBe("issuer_unavailable");
    expect(down.calls).toHaveLength(1);
  });

  it("does not treat a provider token wearing the sluice prefix as a sluice key", async () => {
    const verifier = externalVerifier(jwksEndpoint().fetch);
    expect(await reasonOf(verifier, KEY_PREFIX + (await idpToken({})))).toBe("alg");
  });

  it("rejects unsafe issuer configuration at start", () => {
    const endpoint = jwksEndpoint();
    expect(() => externalVerifier(endpoint.fetch, { issuer: ISSUER })).toThrow(/own issuer/);
    expect(() => externalVerifier(endpoint.fetch, { jwksUrl: "http://idp.example/jwks" })).toThrow(/https/);
    expect(() => externalVerifier(endpoint.fetch, { algorithms: ["HS256" as "RS256"] })).toThrow(
      /algorithms/,
    );
    expect(() => externalVerifier(endpoint.fetch, { jwksUrl: "http://localhost:9999/jwks" })).not.toThrow();
  });
});
