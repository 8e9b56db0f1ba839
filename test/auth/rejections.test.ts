import { base64url, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { KEY_PREFIX, type KeyVerifier, mintKey } from "../../src/auth";
import {
  AUDIENCE,
  assemble,
  baseClaims,
  ISSUER,
  jwksOf,
  MINT,
  makeSigner,
  T0,
  T0_SECONDS,
  type TestSigner,
  verifierFor,
} from "./fixtures";

let trusted: TestSigner;
let verifier: KeyVerifier;
/** A key that verifies, as the control for every "only this changed" case below. */
let goodToken: string;

beforeAll(async () => {
  trusted = await makeSigner("k1");
  verifier = verifierFor(jwksOf(trusted)).verifier;
  goodToken = (
    await mintKey(trusted.signer, { tenant: "acme" }, { ...MINT, expiresInSeconds: 3600, now: T0 })
  ).token;
});

async function signedByTrusted(claims: Record<string, unknown>): Promise<string> {
  const jws = await new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
    .sign(trusted.signer.key);
  return KEY_PREFIX + jws;
}

async function reasonOf(token: string | null, v: KeyVerifier = verifier) {
  const result = await v.verify(token);
  return result.ok ? "ok" : result.reason;
}

describe("rejections", () => {
  it("control: the untouched key and a hand-signed valid claim set verify", async () => {
    expect(await reasonOf(goodToken)).toBe("ok");
    expect(await reasonOf(await signedByTrusted(baseClaims()))).toBe("ok");
  });

  it("missing key", async () => {
    expect(await reasonOf(null)).toBe("missing");
    expect(await reasonOf("")).toBe("missing");
  });

  it("garbage", async () => {
    for (const garbage of ["sk-sluice-", "sk-sluice-garbage", "sk-sluice-a.b.c", "hello world", "a.b.c"]) {
      expect(await reasonOf(garbage), garbage).toBe("malformed");
    }
  });

  it("a sluice JWS without the prefix is not accepted as a key", async () => {
    expect(await reasonOf(goodToken.slice(KEY_PREFIX.length))).toBe("malformed");
  });

  it("alg none", async () => {
    const none = KEY_PREFIX + assemble({ alg: "none", kid: "k1", typ: "JWT" }, baseClaims());
    expect(await reasonOf(none)).toBe("alg");
  });

  it("HS256 signed with the public key as the HMAC secret", async () => {
    const secrets = [
      new TextEncoder().encode(JSON.stringify(trusted.publicJwk)),
      base64url.decode(trusted.publicJwk.x as string),
    ];
    for (const secret of secrets) {
      const jws = await new SignJWT(baseClaims())
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .sign(secret);
      expect(await reasonOf(KEY_PREFIX + jws)).toBe("alg");
    }
  });

  it("RS256 and other algorithms outside the allowlist", async () => {
    const forged = KEY_PREFIX + assemble({ alg: "RS256", kid: "k1" }, baseClaims(), "c2ln");
    expect(await reasonOf(forged)).toBe("alg");
  });

  it("unknown kid", async () => {
    const stranger = await makeSigner("intruder");
    const { token } = await mintKey(stranger.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    expect(await reasonOf(token)).toBe("unknown_kid");
  });

  it("a token without a kid", async () => {
    const jws = await new SignJWT(baseClaims()).setProtectedHeader({ alg: "EdDSA" }).sign(trusted.signer.key);
    expect(await reasonOf(KEY_PREFIX + jws)).toBe("unknown_kid");
  });

  it("a different key claiming the trusted kid", async () => {
    const impostor = await makeSigner("k1");
    const { token } = await mintKey(impostor.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    expect(await reasonOf(token)).toBe("bad_signature");
  });

  it("tampered payload", async () => {
    const [header, , signature] = goodToken.slice(KEY_PREFIX.length).split(".");
    const payload = base64url.encode(JSON.stringify(baseClaims({ sub: "someone-else", models: ["*"] })));
    expect(await reasonOf(`${KEY_PREFIX}${header}.${payload}.${signature}`)).toBe("bad_signature");
  });

  it("expired, with the clock tolerance applied at the edge", async () => {
    const exp = T0_SECONDS + 60;
    const token = await signedByTrusted(baseClaims({ exp }));
    const at = (seconds: number) => verifierFor(jwksOf(trusted), { now: () => seconds * 1000 }).verifier;
    expect(await reasonOf(token, at(exp + 29))).toBe("ok");
    expect(await reasonOf(token, at(exp + 30))).toBe("expired");
    expect(await reasonOf(token, at(exp + 3600))).toBe("expired");
  });

  it("not yet valid", async () => {
    const nbf = T0_SECONDS + 3600;
    const { token } = await mintKey(trusted.signer, { tenant: "acme", notBefore: nbf }, { ...MINT, now: T0 });
    const at = (seconds: number) => verifierFor(jwksOf(trusted), { now: () => seconds * 1000 }).verifier;
    expect(await reasonOf(token, at(T0_SECONDS))).toBe("not_yet_valid");
    expect(await reasonOf(token, at(nbf - 31))).toBe("not_yet_valid");
    expect(await reasonOf(token, at(nbf))).toBe("ok");
  });

  it("missing or ill-typed claims", async () => {
    const cases: Record<string, Record<string, unknown>> = {
      "no sub": baseClaims({ sub: undefined }),
      "no jti": baseClaims({ jti: undefined }),
      "no iat": baseClaims({ iat: undefined }),
      "scopes not a list": baseClaims({ scopes: "admin" }),
      "models of numbers": baseClaims({ models: [1, 2] }),
      "tenant with a newline": baseClaims({ sub: "acme\nadmin" }),
      "negative rpm": baseClaims({ limits: { rpm: -1 } }),
    };
    for (const [label, claims] of Object.entries(cases)) {
      const defined = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
      expect(await reasonOf(await signedByTrusted(defined)), label).toBe("claims");
    }
  });

  it("wrong issuer or audience", async () => {
    const otherIssuer = await mintKey(
      trusted.signer,
      { tenant: "acme" },
      { issuer: "evil", audience: AUDIENCE },
    );
    const otherAudience = await mintKey(
      trusted.signer,
      { tenant: "acme" },
      { issuer: ISSUER, audience: "other" },
    );
    expect(await reasonOf(otherIssuer.token)).toBe("issuer");
    expect(await reasonOf(otherAudience.token)).toBe("audience");
  });

  it("oversized tokens are refused by size, before parsing", async () => {
    const models = Array.from({ length: 90 }, (_, i) => `${"m".repeat(90)}-${i}`);
    const { token } = await mintKey(trusted.signer, { tenant: "acme", models }, { ...MINT, now: T0 });
    expect(token.length).toBeGreaterThan(8192);
    expect(await reasonOf(token)).toBe("too_large");
    // The same key passes once the cap allows it: the size, not the content, was the reason.
    expect(await reasonOf(token, verifierFor(jwksOf(trusted), { maxTokenBytes: 65_536 }).verifier)).toBe(
      "ok",
    );
    // Garbage over the cap says too_large, not malformed: nothing was decoded.
    expect(await reasonOf("%".repeat(8193))).toBe("too_large");
    expect(await reasonOf("%".repeat(8192))).toBe("malformed");
  });
});
