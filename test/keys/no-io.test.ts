import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN, bearer, createKey, testGateway } from "../admin/support";

/**
 * A key the isolate has already verified costs no network I/O: no Redis, no database, no JWKS
 * fetch. Every outbound request of the isolate goes through the global fetch (the Upstash and
 * Neon clients call it per request), so a spy on it counts them all.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

describe("outbound requests", () => {
  it("control: the spy sees the database and Redis requests of admin calls", async () => {
    const gw = testGateway();
    const spy = vi.spyOn(globalThis, "fetch");
    const key = await createKey(gw.fetch);
    const afterCreate = spy.mock.calls.length;
    expect(afterCreate).toBeGreaterThanOrEqual(1);
    await gw.fetch(`/admin/keys/${key.id}`, { method: "DELETE", headers: ADMIN });
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(afterCreate + 2);
  });

  it("a repeated /v1/models call with an already verified key makes none, and skips the signature check", async () => {
    const gw = testGateway();
    const { key } = await createKey(gw.fetch);
    expect((await gw.fetch("/v1/models", { headers: bearer(key) })).status).toBe(200);
    const before = gw.services.verifier.stats();

    const spy = vi.spyOn(globalThis, "fetch");
    const res = await gw.fetch("/v1/models", { headers: bearer(key) });
    expect(res.status).toBe(200);
    expect(spy.mock.calls.map(([input]) => String(input instanceof Request ? input.url : input))).toEqual([]);
    expect(gw.services.verifier.stats()).toMatchObject({ hits: before.hits + 1, misses: before.misses });
  });

  it("the first verification of a key needs no network either: the public keys are in memory", async () => {
    const gw = testGateway();
    const { key } = await createKey(gw.fetch);
    const spy = vi.spyOn(globalThis, "fetch");
    const before = gw.services.verifier.stats();
    const res = await gw.fetch("/v1/models/gpt-4o-mini", { headers: bearer(key) });
    expect(res.status).toBe(200);
    expect(gw.services.verifier.stats().misses).toBe(before.misses + 1);
    // At most the one revocation read that routes outside the limits round trip may make.
    expect(spy.mock.calls.length).toBeLessThanOrEqual(1);
  });
});
