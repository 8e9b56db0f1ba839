import { afterEach, describe, expect, it, vi } from "vitest";
import { KEY_PREFIX, mintKey } from "../../src/auth";
import { jwksOf, MINT, makeSigner, T0, verifierFor } from "./fixtures";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("verified-key cache", () => {
  it("answers a repeated key from the cache without any signature check", async () => {
    const a = await makeSigner("k1");
    const { token } = await mintKey(
      a.signer,
      { tenant: "acme" },
      { ...MINT, expiresInSeconds: 3600, now: T0 },
    );
    const { verifier } = verifierFor(jwksOf(a));
    const signatureChecks = vi.spyOn(crypto.subtle, "verify");

    const first = await verifier.verify(token);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
    expect(verifier.stats()).toEqual({ hits: 0, misses: 1, size: 1 });

    const second = await verifier.verify(token);
    expect(signatureChecks).toHaveBeenCalledTimes(1);
    expect(verifier.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
    expect(second).toEqual(first);
  });

  it("keeps an entry only until the key's exp (plus tolerance), then verifies again and refuses", async () => {
    const a = await makeSigner("k1");
    const { token } = await mintKey(
      a.signer,
      { tenant: "acme" },
      { ...MINT, expiresInSeconds: 600, now: T0 },
    );
    const { verifier, clock } = verifierFor(jwksOf(a), { clockToleranceSeconds: 30 });

    expect((await verifier.verify(token)).ok).toBe(true);
    clock.ms = T0 + 629_000; // 1 s before exp + tolerance: still served from the cache
    expect((await verifier.verify(token)).ok).toBe(true);
    expect(verifier.stats()).toMatchObject({ hits: 1, misses: 1 });

    clock.ms = T0 + 630_000;
    expect(await verifier.verify(token)).toEqual({ ok: false, reason: "expired" });
    expect(verifier.stats()).toEqual({ hits: 1, misses: 2, size: 0 });
  });

  it("never caches failures", async () => {
    const a = await makeSigner("k1");
    const stranger = await makeSigner("k2");
    const { token } = await mintKey(stranger.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    const { verifier } = verifierFor(jwksOf(a));
    expect((await verifier.verify(token)).ok).toBe(false);
    expect((await verifier.verify(token)).ok).toBe(false);
    expect(verifier.stats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });

  it("a cached key does not vouch for a tampered copy of it", async () => {
    const a = await makeSigner("k1");
    const { token } = await mintKey(a.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    const { verifier } = verifierFor(jwksOf(a));
    expect((await verifier.verify(token)).ok).toBe(true);
    const [header, payload, signature] = token.slice(KEY_PREFIX.length).split(".");
    // The first character carries the signature's leading bits (the last one has padding bits).
    const flipped = `${signature?.startsWith("A") ? "B" : "A"}${signature?.slice(1)}`;
    expect(await verifier.verify(`${KEY_PREFIX}${header}.${payload}.${flipped}`)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("is bounded: the least recently used key is evicted first", async () => {
    const a = await makeSigner("k1");
    const mint = async (tenant: string) => (await mintKey(a.signer, { tenant }, { ...MINT, now: T0 })).token;
    const [one, two, three] = [await mint("t1"), await mint("t2"), await mint("t3")];
    const { verifier } = verifierFor(jwksOf(a), { cacheSize: 2 });

    await verifier.verify(one);
    await verifier.verify(two);
    await verifier.verify(one); // hit: `one` is now the most recent, `two` the least
    await verifier.verify(three); // evicts `two`
    expect(verifier.stats()).toEqual({ hits: 1, misses: 3, size: 2 });

    await verifier.verify(one);
    expect(verifier.stats().hits).toBe(2);
    await verifier.verify(two);
    expect(verifier.stats()).toEqual({ hits: 2, misses: 4, size: 2 });
  });

  it("can be disabled with cacheSize 0", async () => {
    const a = await makeSigner("k1");
    const { token } = await mintKey(a.signer, { tenant: "acme" }, { ...MINT, now: T0 });
    const { verifier } = verifierFor(jwksOf(a), { cacheSize: 0 });
    await verifier.verify(token);
    await verifier.verify(token);
    expect(verifier.stats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });
});
