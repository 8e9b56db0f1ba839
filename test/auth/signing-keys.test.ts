import { describe, expect, it } from "vitest";
import {
  generateSigningKey,
  InvalidSigningKeyError,
  importSigningKey,
  parseJwks,
  publicJwkOf,
} from "../../src/auth";

describe("generateSigningKey", () => {
  it("produces an Ed25519 pair labelled with kid, alg and use", async () => {
    const { privateJwk, publicJwk } = await generateSigningKey("2026-07");
    expect(privateJwk).toMatchObject({
      kty: "OKP",
      crv: "Ed25519",
      kid: "2026-07",
      alg: "EdDSA",
      use: "sig",
    });
    expect(typeof privateJwk.d).toBe("string");
    expect(publicJwk).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: privateJwk.x,
      kid: "2026-07",
      alg: "EdDSA",
      use: "sig",
    });
    expect(publicJwkOf(privateJwk)).toEqual(publicJwk);
  });

  it("produces ES256 pairs on request and a dated kid by default", async () => {
    const { privateJwk, publicJwk } = await generateSigningKey(undefined, "ES256");
    expect(publicJwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    expect(publicJwk.d).toBeUndefined();
    expect(privateJwk.kid).toMatch(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{6}$/);
  });
});

describe("importSigningKey", () => {
  it("imports a private JWK from JSON", async () => {
    const { privateJwk } = await generateSigningKey("k1");
    const signer = await importSigningKey(JSON.stringify(privateJwk));
    expect(signer).toMatchObject({ kid: "k1", alg: "EdDSA" });
    expect(signer.key.type).toBe("private");
  });

  it("refuses public keys, unknown algorithms and non-JSON without quoting the input", async () => {
    const { privateJwk, publicJwk } = await generateSigningKey("k1");
    await expect(importSigningKey(JSON.stringify(publicJwk))).rejects.toThrow(/not a private JWK/);
    await expect(importSigningKey(JSON.stringify({ ...privateJwk, alg: "HS256" }))).rejects.toThrow(
      /alg must be/,
    );
    const notJson = `${JSON.stringify(privateJwk)}!`;
    const error = await importSigningKey(notJson).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSigningKeyError);
    expect(String((error as Error).message)).not.toContain(privateJwk.d as string);
  });
});

describe("parseJwks", () => {
  it("accepts a set of public keys with distinct kids", async () => {
    const a = await generateSigningKey("a");
    const b = await generateSigningKey("b", "ES256");
    const jwks = parseJwks(JSON.stringify({ keys: [a.publicJwk, b.publicJwk] }));
    expect(jwks.keys.map((k) => k.kid)).toEqual(["a", "b"]);
  });

  it("refuses private material, duplicate kids, missing kids, wrong curves and empty sets", async () => {
    const a = await generateSigningKey("a");
    const set = (...keys: object[]) => JSON.stringify({ keys });
    expect(() => parseJwks(set(a.privateJwk))).toThrow(/private/);
    expect(() => parseJwks(set(a.publicJwk, a.publicJwk))).toThrow(/duplicate kid/);
    expect(() => parseJwks(set({ ...a.publicJwk, kid: undefined }))).toThrow(/no kid/);
    expect(() => parseJwks(set({ ...a.publicJwk, alg: "ES256" }))).toThrow(/needs kty EC/);
    expect(() => parseJwks(set({ kty: "oct", k: "c2VjcmV0", kid: "h", alg: "HS256" }))).toThrow(
      /secret key material/,
    );
    expect(() => parseJwks(set())).toThrow(/at least one key/);
    expect(() => parseJwks("[]")).toThrow(InvalidSigningKeyError);
    expect(() => parseJwks("not json")).toThrow(/not valid JSON/);
  });
});
