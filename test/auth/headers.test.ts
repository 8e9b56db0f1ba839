import { describe, expect, it } from "vitest";
import { extractToken } from "../../src/auth";

describe("extractToken", () => {
  it("reads an OpenAI-style bearer token", () => {
    expect(extractToken(new Headers({ authorization: "Bearer sk-sluice-abc" }))).toBe("sk-sluice-abc");
    expect(extractToken(new Headers({ authorization: "bearer   sk-sluice-abc " }))).toBe("sk-sluice-abc");
  });

  it("reads an Anthropic-style x-api-key", () => {
    expect(extractToken(new Headers({ "x-api-key": " sk-sluice-xyz " }))).toBe("sk-sluice-xyz");
  });

  it("prefers Authorization when both are sent", () => {
    const headers = new Headers({ authorization: "Bearer from-auth", "x-api-key": "from-x-api-key" });
    expect(extractToken(headers)).toBe("from-auth");
  });

  it("falls back to x-api-key when Authorization is not a bearer token", () => {
    const headers = new Headers({ authorization: "Basic dXNlcjpwYXNz", "x-api-key": "from-x-api-key" });
    expect(extractToken(headers)).toBe("from-x-api-key");
  });

  it("returns null when no key is present", () => {
    expect(extractToken(new Headers())).toBeNull();
    expect(extractToken(new Headers({ authorization: "Bearer" }))).toBeNull();
    expect(extractToken(new Headers({ authorization: "Bearer a b" }))).toBeNull();
    expect(extractToken(new Headers({ authorization: "Basic dXNlcjpwYXNz" }))).toBeNull();
    expect(extractToken(new Headers({ "x-api-key": "  " }))).toBeNull();
  });
});
