import { describe, expect, it } from "vitest";
import { type CacheEntry, decodeEntry, encodeEntry } from "../../src/cache/entry";

const entry = (content: string): CacheEntry => ({
  body: { object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content } }] },
  usage: {
    promptTokens: 5,
    completionTokens: 7,
    cachedReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  },
  provider: "mock",
  model: "gpt-4o-mini",
  storedAt: 1_700_000_000_000,
});

describe("stored cache entries", () => {
  it("keeps a small answer as plain JSON and a big one gzip + base64, and reads both back", async () => {
    const small = entry("hello");
    const big = entry("word ".repeat(2_000));
    const smallValue = await encodeEntry(small);
    const bigValue = await encodeEntry(big);
    expect(smallValue.startsWith("{")).toBe(true);
    expect(JSON.parse(smallValue)).toEqual(small);
    expect(bigValue).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(bigValue.length).toBeLessThan(JSON.stringify(big).length / 10);
    expect(await decodeEntry(smallValue)).toEqual(small);
    expect(await decodeEntry(bigValue)).toEqual(big);
  });

  it("reads anything malformed as a miss", async () => {
    for (const value of ["{", '{"body":null}', "{}", "not base64 at all", "", 42, null])
      expect(await decodeEntry(value)).toBeNull();
  });
});
