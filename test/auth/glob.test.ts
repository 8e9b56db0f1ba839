import { describe, expect, it } from "vitest";
import { globMatch, hasScope, modelAllowed } from "../../src/auth";

describe("globMatch", () => {
  it.each([
    ["gpt-4o*", "gpt-4o", true],
    ["gpt-4o*", "gpt-4o-mini", true],
    ["gpt-4o*", "gpt-4", false],
    ["gpt-4o*", "xgpt-4o", false],
    ["*", "", true],
    ["*", "anything/at all", true],
    ["", "", true],
    ["", "a", false],
    ["claude-?-haiku", "claude-3-haiku", true],
    ["claude-?-haiku", "claude-35-haiku", false],
    ["claude-?-haiku", "claude--haiku", false],
    ["*-mini", "gpt-4o-mini", true],
    ["*-mini", "gpt-4o-mini-2024", false],
    ["a*b*c", "aXXbYYc", true],
    ["a*b*c", "aXXcYYb", false],
    ["*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false],
    ["openai/*", "openai/gpt-4o", true],
    ["GPT-4o", "gpt-4o", false],
    ["gpt-4o", "gpt-4o", true],
  ])("%j matches %j: %s", (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });
});

describe("modelAllowed", () => {
  it("allows when any pattern matches and refuses otherwise", () => {
    const patterns = ["gpt-4o*", "claude-?-haiku"];
    expect(modelAllowed(patterns, "gpt-4o-mini")).toBe(true);
    expect(modelAllowed(patterns, "claude-3-haiku")).toBe(true);
    expect(modelAllowed(patterns, "o1-preview")).toBe(false);
  });

  it("an empty allowlist allows nothing", () => {
    expect(modelAllowed([], "gpt-4o")).toBe(false);
  });
});

describe("hasScope", () => {
  it("matches scopes exactly or by pattern", () => {
    expect(hasScope({ scopes: ["chat", "usage:*"] }, "chat")).toBe(true);
    expect(hasScope({ scopes: ["chat", "usage:*"] }, "usage:read")).toBe(true);
    expect(hasScope({ scopes: ["chat", "usage:*"] }, "embeddings")).toBe(false);
    expect(hasScope({ scopes: ["*"] }, "embeddings")).toBe(true);
    expect(hasScope({ scopes: [] }, "chat")).toBe(false);
  });
});
