/**
 * Default list prices, USD per 1M tokens (../shared/PRICES.md, late 2025). Operators override or
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
  cache_write?: number;
  /** Higher prices once the prompt exceeds a size (Gemini 2.5 Pro). */
  tiers?: { above_prompt_tokens: number; input: number; output: number; cached_input?: number }[];
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
  {
    model: "claude-sonnet-4-5",
    aliases: ["claude-sonnet-4.5"],
    input: 3,
    cached_input: 0.3,
    cache_write: 3.75,
    output: 15,
  },
  {
    model: "claude-haiku-4-5",
    aliases: ["claude-haiku-4.5"],
    input: 1,
    cached_input: 0.1,
    cache_write: 1.25,
    output: 5,
  },
  {
    model: "claude-opus-4-1",
    aliases: ["claude-opus-4.1"],
    input: 15,
    cached_input: 1.5,
    cache_write: 18.75,
    output: 75,
  },
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
