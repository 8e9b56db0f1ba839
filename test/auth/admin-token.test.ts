import { describe, expect, it } from "vitest";
import { adminTokenMatches } from "../../src/auth";

describe("adminTokenMatches", () => {
  const expected = "adm_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

  it("accepts exactly the configured token", async () => {
    expect(await adminTokenMatches(expected, expected)).toBe(true);
  });

  it("refuses anything else", async () => {
    expect(await adminTokenMatches(`${expected}x`, expected)).toBe(false);
    expect(await adminTokenMatches(expected.slice(0, -1), expected)).toBe(false);
    expect(await adminTokenMatches(expected.toUpperCase(), expected)).toBe(false);
    expect(await adminTokenMatches("", expected)).toBe(false);
    expect(await adminTokenMatches(null, expected)).toBe(false);
  });

  it("never matches when no admin token is configured", async () => {
    expect(await adminTokenMatches("", "")).toBe(false);
    expect(await adminTokenMatches("anything", "")).toBe(false);
  });
});
