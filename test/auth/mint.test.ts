import { describe, expect, it } from "vitest";
import { InvalidKeyClaimsError, inspectKey, mintKey, parseDurationSeconds } from "../../src/auth";
import { MINT, makeSigner, T0, T0_SECONDS } from "./fixtures";

describe("mintKey input", () => {
  it("refuses bad claims and names the field", async () => {
    const { signer } = await makeSigner("k1");
    const bad = [
      [{ tenant: "" }, "tenant"],
      [{ tenant: "has space" }, "tenant"],
      [{ tenant: "acme", limits: { rpm: 0 } }, "limits.rpm"],
      [{ tenant: "acme", limits: { tpm: 1.5 } }, "limits.tpm"],
      [{ tenant: "acme", limits: { budget_usd_day: -1 } }, "limits.budget_usd_day"],
      [{ tenant: "acme", limits: { rpd: 10 } }, "limits"],
      [{ tenant: "acme", models: [""] }, "models.0"],
    ] as const;
    for (const [input, path] of bad) {
      const error = await mintKey(signer, input as never, MINT).catch((e: unknown) => e);
      expect(error, JSON.stringify(input)).toBeInstanceOf(InvalidKeyClaimsError);
      expect((error as InvalidKeyClaimsError).issues.map((issue) => issue.path)).toContain(path);
    }
    await expect(mintKey(signer, { tenant: "acme" }, { ...MINT, expiresInSeconds: 0 })).rejects.toThrow(
      /expiresInSeconds/,
    );
  });

  it("writes exactly the claims it returns, with kid and alg in the header", async () => {
    const { signer } = await makeSigner("k1");
    const minted = await mintKey(
      signer,
      { tenant: "acme", plan: "pro", notBefore: T0_SECONDS + 10 },
      { ...MINT, expiresInSeconds: 86_400, now: T0 },
    );
    const inspected = inspectKey(minted.token);
    expect(inspected.verified).toBe(false);
    expect(inspected.header).toEqual({ alg: "EdDSA", kid: "k1", typ: "JWT" });
    expect(inspected.claims).toEqual(minted.claims);
    expect(minted.claims).toMatchObject({ nbf: T0_SECONDS + 10, exp: T0_SECONDS + 86_400, plan: "pro" });
  });
});

describe("inspectKey", () => {
  it("refuses text that is not a JWT", () => {
    expect(() => inspectKey("sk-sluice-nope")).toThrow(TypeError);
    expect(() => inspectKey("a.b.c")).toThrow(/do not decode/);
  });
});

describe("parseDurationSeconds", () => {
  it.each([
    ["30d", 2_592_000],
    ["12h", 43_200],
    ["90m", 5_400],
    ["45s", 45],
    ["2w", 1_209_600],
    ["3600", 3_600],
    [" 7D ", 604_800],
    [60, 60],
  ] as const)("%j is %d seconds", (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(["", "0", "0d", "-1d", "1y", "1.5h", "d", "10 days", 0, -5, 1.5])("%j is refused", (text) => {
    expect(parseDurationSeconds(text)).toBeNull();
  });
});
