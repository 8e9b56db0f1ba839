import { describe, expect, it } from "vitest";
import { isKeyRevoked, isRevokedKeyName, revokedKeyName, revokeKey } from "../../src/limits";
import { admission, freshCaller, gateFor, redis, T0, testConfig } from "./support";

describe("revocation (read in the gate's round trip)", () => {
  it("refuses a revoked key with 401 invalid_api_key and leaves other keys alone", async () => {
    const { gate } = gateFor(testConfig({ budget_usd_day: 1 }));
    const revoked = freshCaller();
    const other = freshCaller({ tenant: revoked.tenant });
    await revokeKey(redis, revoked.keyId, Date.now() + 3_600_000);

    const result = await gate.admit(admission(revoked, { worstCaseMicros: 1000 }));
    expect(result.error?.status).toBe(401);
    expect(result.error?.code).toBe("invalid_api_key");
    expect((await gate.admit(admission(other))).error).toBeNull();
    // A revoked request reserves nothing.
    expect(await redis.get(`sluice:budget:key:${revoked.keyId}:d:2030-06-15`)).toBeNull();
  });

  it("expires the marker with the key", async () => {
    const caller = freshCaller();
    await revokeKey(redis, caller.keyId, Date.now() + 60_000);
    const ttl = await redis.pttl(revokedKeyName(caller.keyId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(isRevokedKeyName(revokedKeyName(caller.keyId))).toBe(true);
  });

  it("writes nothing for a key that has already expired", async () => {
    const caller = freshCaller();
    await revokeKey(redis, caller.keyId, Date.now() - 1000);
    expect(await redis.exists(revokedKeyName(caller.keyId))).toBe(0);
  });

  it("delays the refusal until effectiveAt (rotation grace), and an earlier revocation wins", async () => {
    const { gate, clock } = gateFor(testConfig());
    const rotated = freshCaller();
    await revokeKey(redis, rotated.keyId, null, { effectiveAt: T0 + 60_000 });
    expect((await gate.admit(admission(rotated))).error).toBeNull();
    clock.ms = T0 + 60_000;
    expect((await gate.admit(admission(rotated))).error?.status).toBe(401);

    const revokedFirst = freshCaller();
    await revokeKey(redis, revokedFirst.keyId, null);
    await revokeKey(redis, revokedFirst.keyId, null, { effectiveAt: T0 + 3_600_000 });
    clock.ms = T0;
    expect((await gate.admit(admission(revokedFirst))).error?.status).toBe(401);
    await redis.del(revokedKeyName(rotated.keyId), revokedKeyName(revokedFirst.keyId));
  });

  it("answers isKeyRevoked for paths outside the gate", async () => {
    const caller = freshCaller();
    expect(await isKeyRevoked(redis, caller.keyId)).toBe(false);
    await revokeKey(redis, caller.keyId, Date.now() + 60_000);
    expect(await isKeyRevoked(redis, caller.keyId)).toBe(true);
  });
});
