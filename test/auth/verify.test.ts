import { describe, expect, it } from "vitest";
import { mintKey } from "../../src/auth";
import { jwksOf, MINT, makeSigner, T0, T0_SECONDS, verifierFor } from "./fixtures";

describe("mint then verify", () => {
  it("returns the normalized identity of a freshly minted key", async () => {
    const a = await makeSigner("k1");
    const { token, claims } = await mintKey(
      a.signer,
      {
        tenant: "acme",
        keyId: "key-123",
        name: "ci bot",
        scopes: ["chat", "embeddings"],
        models: ["gpt-4o*", "claude-*"],
        plan: "pro",
        limits: { rpm: 60, tpm: 100_000, concurrency: 4, budget_usd_day: 5, budget_usd_month: 100.5 },
      },
      { ...MINT, expiresInSeconds: 3600, now: T0 },
    );
    expect(token.startsWith("sk-sluice-")).toBe(true);
    expect(claims).toMatchObject({ sub: "acme", jti: "key-123", iat: T0_SECONDS, exp: T0_SECONDS + 3600 });

    const { verifier } = verifierFor(jwksOf(a));
    const result = await verifier.verify(token);
    expect(result).toEqual({
      ok: true,
      identity: {
        tenant: "acme",
        keyId: "key-123",
        name: "ci bot",
        scopes: ["chat", "embeddings"],
        models: ["gpt-4o*", "claude-*"],
        plan: "pro",
        limits: { rpm: 60, tpm: 100_000, concurrency: 4, budget_usd_day: 5, budget_usd_month: 100.5 },
        expiresAt: T0_SECONDS + 3600,
        issuedAt: T0_SECONDS,
        issuer: "sluice",
        external: false,
      },
    });
  });

  it("fills defaults: random UUID id, every scope and model, no plan, no expiry", async () => {
    const a = await makeSigner("k1");
    const { token, claims } = await mintKey(a.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.exp).toBeUndefined();
    const result = await verifierFor(jwksOf(a)).verifier.verify(token);
    expect(result.ok && result.identity).toMatchObject({
      keyId: claims.jti,
      scopes: ["*"],
      models: ["*"],
      plan: null,
      name: null,
      limits: {},
      expiresAt: null,
    });
  });

  it("verifies ES256 keys as well as EdDSA", async () => {
    const ec = await makeSigner("ec-1", "ES256");
    const { token } = await mintKey(ec.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    const result = await verifierFor(jwksOf(ec)).verifier.verify(token);
    expect(result.ok).toBe(true);
  });

  it("hands out frozen identities, since the cache shares them between requests", async () => {
    const a = await makeSigner("k1");
    const { token } = await mintKey(a.signer, { tenant: "acme", models: ["gpt-4o"] }, { ...MINT, now: T0 });
    const result = await verifierFor(jwksOf(a)).verifier.verify(token);
    if (!result.ok) throw new Error(result.reason);
    expect(Object.isFrozen(result.identity)).toBe(true);
    expect(() => (result.identity.models as string[]).push("*")).toThrow();
  });
});

describe("signing-key rotation", () => {
  it("accepts keys from the old and the new kid while both are in the JWKS, then only the new", async () => {
    const old = await makeSigner("2026-01");
    const next = await makeSigner("2026-07");
    const oldKey = (await mintKey(old.signer, { tenant: "acme" }, { ...MINT, now: T0 })).token;
    const newKey = (await mintKey(next.signer, { tenant: "acme" }, { ...MINT, now: T0 })).token;

    const during = verifierFor(jwksOf(next, old)).verifier;
    expect((await during.verify(oldKey)).ok).toBe(true);
    expect((await during.verify(newKey)).ok).toBe(true);

    const after = verifierFor(jwksOf(next)).verifier;
    expect(await after.verify(oldKey)).toEqual({ ok: false, reason: "unknown_kid" });
    expect((await after.verify(newKey)).ok).toBe(true);
  });
});
