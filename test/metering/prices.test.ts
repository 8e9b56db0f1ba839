import { describe, expect, it } from "vitest";
import {
  costOf,
  createPriceBook,
  formatUsd,
  type Price,
  parseUsd,
  toMicrosCeil,
  toUsdNumber,
  usdPerMillionToPico,
  worstCaseMicros,
} from "../../src/metering";
import { type TokenUsage, ZERO_USAGE } from "../../src/providers/types";

const book = createPriceBook();
const usage = (u: Partial<TokenUsage>): TokenUsage => ({ ...ZERO_USAGE, ...u });
const price = (provider: string | null, model: string): Price => {
  const found = book.lookup(provider, model);
  if (!found) throw new Error(`no price for ${model}`);
  return found;
};

// Golden cases from PRICES.md, worked by hand in picodollars (USD per 1M tokens x 1e6 = pico per token).
describe("cost per wire format, exact to the picodollar", () => {
  it("OpenAI: cached tokens are part of prompt_tokens, reasoning part of completion_tokens", () => {
    // gpt-4.1: input 2.00, cached 0.50, output 8.00
    const cost = costOf(
      price("openai", "gpt-4.1"),
      usage({ promptTokens: 12_345, cachedReadTokens: 1_024, completionTokens: 678, reasoningTokens: 100 }),
    );
    // 11,321 x 2,000,000 + 1,024 x 500,000 + 678 x 8,000,000
    expect(cost.picoUsd).toBe(22_642_000_000n + 512_000_000n + 5_424_000_000n);
    expect(formatUsd(cost.picoUsd)).toBe("0.028578");
  });

  it("OpenAI: a price with a fraction of a cent per million (gpt-4.1-nano cached 0.025)", () => {
    const cost = costOf(
      price("openai", "gpt-4.1-nano"),
      usage({ promptTokens: 1_000, cachedReadTokens: 999, completionTokens: 1 }),
    );
    // 1 x 100,000 + 999 x 25,000 + 1 x 400,000
    expect(cost.picoUsd).toBe(25_475_000n);
    expect(formatUsd(cost.picoUsd)).toBe("0.000025475");
  });

  it("Anthropic: cache reads and cache writes each at their own rate, never also at input", () => {
    // input_tokens 100 + cache_read 2,000 + cache_creation 500 = promptTokens 2,600
    const cost = costOf(
      price("anthropic", "claude-sonnet-4-5"),
      usage({ promptTokens: 2_600, cachedReadTokens: 2_000, cacheWriteTokens: 500, completionTokens: 300 }),
    );
    // 100 x 3,000,000 + 2,000 x 300,000 + 500 x 3,750,000 + 300 x 15,000,000
    expect(cost.picoUsd).toBe(300_000_000n + 600_000_000n + 1_875_000_000n + 4_500_000_000n);
    expect(formatUsd(cost.picoUsd)).toBe("0.007275");
  });

  it("Anthropic: aliases and dated snapshots find the same price", () => {
    expect(book.lookup("anthropic", "claude-sonnet-4.5")).toBe(price("anthropic", "claude-sonnet-4-5"));
    expect(book.lookup("anthropic", "claude-sonnet-4-5-20250929")).toBe(
      price("anthropic", "claude-sonnet-4-5"),
    );
    expect(book.lookup("openai", "gpt-4o-mini-2024-07-18")).toBe(price("openai", "gpt-4o-mini"));
  });

  it("Gemini: thinking tokens are output; cached content is part of the prompt", () => {
    // gemini-2.5-flash: input 0.30, cached 0.03, output 2.50; completion 2,000 includes 1,500 thoughts
    const cost = costOf(
      price("google", "gemini-2.5-flash"),
      usage({ promptTokens: 1_000, cachedReadTokens: 400, completionTokens: 2_000, reasoningTokens: 1_500 }),
    );
    // 600 x 300,000 + 400 x 30,000 + 2,000 x 2,500,000
    expect(cost.picoUsd).toBe(180_000_000n + 12_000_000n + 5_000_000_000n);
  });

  it("Gemini 2.5 Pro: the base price up to 200k prompt tokens, the tier above", () => {
    const pro = price("google", "gemini-2.5-pro");
    const atLimit = costOf(
      pro,
      usage({ promptTokens: 200_000, cachedReadTokens: 50_000, completionTokens: 1_000 }),
    );
    // 150,000 x 1,250,000 + 50,000 x 125,000 + 1,000 x 10,000,000
    expect(atLimit.picoUsd).toBe(187_500_000_000n + 6_250_000_000n + 10_000_000_000n);
    expect(formatUsd(atLimit.picoUsd)).toBe("0.20375");

    const above = costOf(pro, usage({ promptTokens: 200_001, cachedReadTokens: 1, completionTokens: 1_000 }));
    // 200,000 x 2,500,000 + 1 x 250,000 + 1,000 x 15,000,000
    expect(above.picoUsd).toBe(500_000_000_000n + 250_000n + 15_000_000_000n);
    expect(formatUsd(above.picoUsd)).toBe("0.51500025");
  });

  it("DeepSeek: cache hits at the hit price, misses at input (looked up by alias)", () => {
    // prompt_cache_hit_tokens 3,000 + prompt_cache_miss_tokens 1,000
    const cost = costOf(
      price("deepseek", "deepseek-v3.2"),
      usage({ promptTokens: 4_000, cachedReadTokens: 3_000, completionTokens: 500 }),
    );
    // 1,000 x 280,000 + 3,000 x 28,000 + 500 x 420,000
    expect(cost.picoUsd).toBe(280_000_000n + 84_000_000n + 210_000_000n);
    expect(formatUsd(cost.picoUsd)).toBe("0.000574");
  });

  it("embeddings bill the input only", () => {
    const cost = costOf(price("openai", "text-embedding-3-small"), usage({ promptTokens: 1_000_000 }));
    expect(formatUsd(cost.picoUsd)).toBe("0.02");
  });

  it("a cached count larger than the prompt never makes the cost negative", () => {
    const cost = costOf(price("openai", "gpt-4.1"), usage({ promptTokens: 10, cachedReadTokens: 20 }));
    expect(cost.picoUsd).toBe(20n * 500_000n);
  });
});

describe("price book", () => {
  it("an operator row replaces the default for the same model, aliases included", () => {
    const custom = createPriceBook([{ model: "claude-sonnet-4-5", input: 1, output: 2 }]);
    const p = custom.lookup("anthropic", "claude-sonnet-4-5");
    // Absent cached and cache-write prices default to input (1-hour writes to the cache write).
    expect(p?.base).toEqual({
      input: 1_000_000n,
      output: 2_000_000n,
      cachedInput: 1_000_000n,
      cacheWrite: 1_000_000n,
      cacheWrite1h: 1_000_000n,
    });
    // The default's alias went with the default row.
    expect(custom.lookup("anthropic", "claude-sonnet-4.5")).toBeNull();
  });

  it("a provider row (a relay) prices only that provider; others keep the default", () => {
    const custom = createPriceBook([{ provider: "holysheep", model: "gpt-4.1", input: 3, output: 9 }]);
    expect(custom.lookup("holysheep", "gpt-4.1")?.base.input).toBe(3_000_000n);
    expect(custom.lookup("openai", "gpt-4.1")?.base.input).toBe(2_000_000n);
    expect(custom.lookup(null, "gpt-4.1")?.base.input).toBe(2_000_000n);
  });

  it("an unknown model has no price (null, never $0)", () => {
    expect(book.lookup("openai", "mystery-model")).toBeNull();
    expect(book.lookup("openai", null)).toBeNull();
  });
});

describe("exact conversions", () => {
  it("USD per 1M tokens become integer picodollars per token without float drift", () => {
    expect(usdPerMillionToPico(0.07)).toBe(70_000n); // 0.07 * 1e6 is 70000.00000000001 in floats
    expect(usdPerMillionToPico(0.028)).toBe(28_000n);
    expect(usdPerMillionToPico(18.75)).toBe(18_750_000n);
    expect(usdPerMillionToPico(1e-7)).toBe(0n); // 0.1 pico per token rounds away
    expect(usdPerMillionToPico(2.5e-6)).toBe(3n); // 2.5 pico rounds half up
    expect(usdPerMillionToPico(1e21)).toBe(10n ** 27n);
  });

  it("formats, parses and converts", () => {
    expect(formatUsd(0n)).toBe("0");
    expect(formatUsd(1n)).toBe("0.000000000001");
    expect(formatUsd(12_345_000_000_000n)).toBe("12.345");
    expect(parseUsd("12.345000000000")).toBe(12_345_000_000_000n);
    expect(parseUsd(formatUsd(987_654_321_123n))).toBe(987_654_321_123n);
    expect(toUsdNumber(28_578_000_000n)).toBe(0.028578);
    expect(toMicrosCeil(1n)).toBe(1);
    expect(toMicrosCeil(1_000_000n)).toBe(1);
    expect(toMicrosCeil(1_000_001n)).toBe(2);
    expect(toMicrosCeil(0n)).toBe(0);
  });

  it("worst case reserves every prompt token at the dearest prompt rate plus the whole output allowance", () => {
    // claude-sonnet-4-5: 1-hour cache write 6.00 > 5-minute 3.75 > input 3.00;
    // 1,000 x 6,000,000 + 100 x 15,000,000 pico
    expect(worstCaseMicros(price("anthropic", "claude-sonnet-4-5"), 1_000, 100)).toBe(7_500);
    // gemini-2.5-pro above 200k uses the tier: 250,000 x 2,500,000 + 10 x 15,000,000 pico
    expect(worstCaseMicros(price("google", "gemini-2.5-pro"), 250_000, 10)).toBe(625_150);
  });
});
