import { describe, expect, it } from "vitest";
import { formatResetDuration, rateLimitHeaders } from "../../src/limits";

describe("OpenAI rate-limit headers", () => {
  it("formats reset durations like OpenAI (Go duration style)", () => {
    expect(formatResetDuration(1000)).toBe("1s");
    expect(formatResetDuration(360_000)).toBe("6m0s");
    expect(formatResetDuration(20)).toBe("20ms");
    expect(formatResetDuration(1500)).toBe("1.5s");
    expect(formatResetDuration(3_723_000)).toBe("1h2m3s");
    expect(formatResetDuration(-5)).toBe("0s");
  });

  it("names every header as OpenAI does, and leaves out a dimension without a limit", () => {
    expect(
      rateLimitHeaders(
        { limit: 60, remaining: 59, resetMs: 1000 },
        { limit: 1000, remaining: -3, resetMs: 6000 },
      ),
    ).toEqual({
      "x-ratelimit-limit-requests": "60",
      "x-ratelimit-remaining-requests": "59",
      "x-ratelimit-reset-requests": "1s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "6s",
    });
    expect(rateLimitHeaders(null, null)).toEqual({});
  });
});
