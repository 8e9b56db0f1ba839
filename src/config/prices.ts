/**
 * Default list prices, USD per 1M tokens (../shared/PRICES.md: late 2025, Anthropic's line-up 2026-11-29). Operators override or
 * extend any row from config; a model without a row is flagged and never billed as $0.
 */
export interface PriceInput {
  /** Upstream model id; `provider` narrows the row to one provider (relays price their own rows). */
  model: string;
  provider?: string;
  aliases?: string[];
  input: number;
  output: number;
  cached_input?: number;
  /** Cache writes (Anthropic's 5-minute TTL). */
  cache_write?: number;
  /** Anthropic's 1-hour cache writes; absent, they cost `cache_write`. */
  cache_write_1h?: number;
  /** Higher prices once the prompt exceeds a size (Gemini 2.5 Pro, Claude Haiku 5.5). */
  tiers?: PriceTierInput[];
}

/** A prompt-size tier: its rates replace the base ones for every token of a larger request. */
export interface PriceTierInput {
  above_prompt_tokens: number;
  input: number;
  output: number;
  cached_input?: number;
  cache_write?: number;
  cache_write_1h?: number;
}

/**
 * Claude rows: each model also answers to its dotted alias ("claude-sonnet-4.5").
 * @example claude(["claude-opus-5"], { input: 5, w5m: 6.25, w1h: 10, read: 0.5, output: 25 })
 */
function claude(
  models: string[],
  p: { input: number; w5m: number; w1h: number; read: number; output: number; tiers?: PriceTierInput[] },
): PriceInput[] {
  return models.map((model) => ({
    model,
    aliases: [model.replace(/-(\d+)-(\d+)$/, "-$1.$2")].filter((alias) => alias !== model),
    input: p.input,
    cached_input: p.read,
    cache_write: p.w5m,
    cache_write_1h: p.w1h,
    output: p.output,
    ...(p.tiers ? { tiers: p.tiers } : {}),
  }));
}

export const DEFAULT_PRICES: PriceInput[] = [
  { model: "gpt-4.1", input: 2, cached_input: 0.5, output: 8 },
  { model: "gpt-4.1-mini", input: 0.4, cached_input: 0.1, output: 1.6 },
  { model: "gpt-4.1-nano", input: 0.1, cached_input: 0.025, output: 0.4 },
  { model: "gpt-4o", input: 2.5, cached_input: 1.25, output: 10 },
  { model: "gpt-4o-mini", input: 0.15, cached_input: 0.075, output: 0.6 },
  { model: "gpt-5", input: 1.25, cached_input: 0.125, output: 10 },
  { model: "gpt-5-mini", input: 0.25, cached_input: 0.025, output: 2 },
  { model: "gpt-5-nano", input: 0.05, cached_input: 0.005, output: 0.4 },
  { model: "o4-mini", input: 1.1, cached_input: 0.275, output: 4.4 },
  { model: "text-embedding-3-small", input: 0.02, output: 0 },
  { model: "text-embedding-3-large", input: 0.13, output: 0 },
  // Anthropic's line-up (PRICES.md, read 2026-11-29): cache writes priced by TTL.
  ...claude(["claude-fable-5-1", "claude-mythos-5-1"], {
    input: 10,
    w5m: 12.5,
    w1h: 20,
    read: 0.25,
    output: 50,
  }),
  ...claude(["claude-fable-5", "claude-mythos-5"], { input: 10, w5m: 12.5, w1h: 20, read: 1, output: 50 }),
  ...claude(["claude-opus-5", "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5"], {
    input: 5,
    w5m: 6.25,
    w1h: 10,
    read: 0.5,
    output: 25,
  }),
  ...claude(["claude-opus-4-1", "claude-opus-4"], { input: 15, w5m: 18.75, w1h: 30, read: 1.5, output: 75 }),
  ...claude(["claude-sonnet-5-5"], { input: 2, w5m: 2.5, w1h: 4, read: 0.1, output: 10 }),
  ...claude(["claude-sonnet-5"], { input: 2, w5m: 2.5, w1h: 4, read: 0.2, output: 10 }),
  ...claude(["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4"], {
    input: 3,
    w5m: 3.75,
    w1h: 6,
    read: 0.3,
    output: 15,
  }),
  // The tier is chosen by the whole prompt (input + cache reads + writes) and prices every token.
  ...claude(["claude-haiku-5-5"], {
    input: 0.1,
    w5m: 0.125,
    w1h: 0.2,
    read: 0.01,
    output: 0.5,
    tiers: [
      {
        above_prompt_tokens: 100_000,
        input: 0.5,
        cache_write: 0.625,
        cache_write_1h: 1,
        cached_input: 0.05,
        output: 2.5,
      },
    ],
  }),
  ...claude(["claude-haiku-4-5"], { input: 1, w5m: 1.25, w1h: 2, read: 0.1, output: 5 }),
  { model: "gemini-2.5-flash", input: 0.3, cached_input: 0.03, output: 2.5 },
  { model: "gemini-2.5-flash-lite", input: 0.1, cached_input: 0.01, output: 0.4 },
  {
    model: "gemini-2.5-pro",
    input: 1.25,
    cached_input: 0.125,
    output: 10,
    tiers: [{ above_prompt_tokens: 200_000, input: 2.5, cached_input: 0.25, output: 15 }],
  },
  { model: "deepseek-chat", aliases: ["deepseek-v3.2"], input: 0.28, cached_input: 0.028, output: 0.42 },
  { model: "deepseek-reasoner", input: 0.28, cached_input: 0.028, output: 0.42 },
];
