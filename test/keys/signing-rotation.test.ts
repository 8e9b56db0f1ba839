import { beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, inspectKey, type JWK, type SigningKeyPair } from "../../src/auth";
import { adminJson, bearer, createKey, type ErrorJson, type KeyJson, testGateway } from "../admin/support";

/**
 * Signing keys rotate the way the issue describes: publish the new kid in the JWKS, mint with it,
 * keep verifying the old kid until it is removed. Each phase is a gateway built from that
 * phase's bindings, as a redeploy would be.
 */

let oldPair: SigningKeyPair;
let newPair: SigningKeyPair;

beforeAll(async () => {
  oldPair = await generateSigningKey("kid-old");
  newPair = await generateSigningKey("kid-new");
});

function phase(published: SigningKeyPair[], signer: SigningKeyPair) {
  return testGateway({
    env: {
      SLUICE_JWKS: JSON.stringify({ keys: published.map((p) => p.publicJwk) }),
      SLUICE_SIGNING_KEY: JSON.stringify(signer.privateJwk as JWK),
    },
  });
}

const status = async (gw: ReturnType<typeof testGateway>, key: string) =>
  (await gw.fetch("/v1/models", { headers: bearer(key) })).status;

describe("signing-key rotation", () => {
  it("verifies both kids while both are published, and refuses the old kid once it is removed", async () => {
    const before = phase([oldPair], oldPair);
    const oldKey = await createKey(before.fetch);
    expect(oldKey.signing_kid).toBe("kid-old");
    expect(inspectKey(oldKey.key).header.kid).toBe("kid-old");
    expect(await status(before, oldKey.key)).toBe(200);

    const during = phase([oldPair, newPair], newPair);
    const newKey = await createKey(during.fetch);
    expect(newKey.signing_kid).toBe("kid-new");
    expect(inspectKey(newKey.key).header.kid).toBe("kid-new");
    expect(await status(during, oldKey.key)).toBe(200);
    expect(await status(during, newKey.key)).toBe(200);

    const after = phase([newPair], newPair);
    const refused = await after.fetch("/v1/models", { headers: bearer(oldKey.key) });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ErrorJson).error.code).toBe("invalid_api_key");
    expect(await status(after, newKey.key)).toBe(200);
  });

  it("rotating a key while both kids are published moves it to the new kid", async () => {
    const before = phase([oldPair], oldPair);
    const oldKey = await createKey(before.fetch);

    const during = phase([oldPair, newPair], newPair);
    const res = await during.fetch(
      `/admin/keys/${oldKey.id}/rotate`,
      adminJson("POST", { grace_seconds: 3600 }),
    );
    expect(res.status).toBe(201);
    const successor = (await res.json()) as KeyJson & { key: string };
    expect(successor.signing_kid).toBe("kid-new");

    const after = phase([newPair], newPair);
    expect(await status(after, successor.key)).toBe(200);
    expect(await status(after, oldKey.key)).toBe(401);
  });
});
