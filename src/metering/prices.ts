import { DEFAULT_PRICES, type PriceInput, type PriceTierInput } from "../config/prices";
import type { TokenUsage } from "../providers/types";

/**
 * Prices as integers: USD per 1M tokens times 1e6 = micro-USD per 1M tokens = picodollars per
 * token. Every cost is then integer arithmetic on bigints, exact to the picodollar, with no
 * floating point anywhere between the config figure and the usage row.
 */
export interface PicoRates {
  input: bigint;
  output: bigint;
  cachedInput: bigint;
  /** Cache writes: Anthropic's 5-minute TTL, and every write a provider does not split by TTL. */
  cacheWrite: bigint;
  /** Anthropic's 1-hour cache writes. */
  cacheWrite1h: bigint;
}

/** One model's price, resolved from a default or operator row. */
export interface Price {
  model: string;
  provider: string | null;
  base: PicoRates;
  /** Ascending by threshold: a tier applies when the prompt has MORE than `abovePromptTokens`. */
  tiers: { abovePromptTokens: number; rates: PicoRates }[];
}

/** The exact cost of one request. */
export interface Cost {
  picoUsd: bigint;
  /**
   * What prompt caching saved: the cost with every prompt token at the input rate, less the cost.
   * Negative when cache writes (dearer than input) were not yet repaid by reads. Absent: zero.
   */
  cacheSavingsPicoUsd?: bigint;
  /** The cost at list price, before the provider's `cost_multiplier`; absent: equal to picoUsd. */
  listPicoUsd?: bigint;
  /** What the tenant is billed (its plan's or its own price, src/billing/); absent: equal to picoUsd. */
  billedPicoUsd?: bigint;
}

/** Multipliers are kept to the millionth, so a cost scales by an exact integer ratio. */
const MULTIPLIER_SCALE = 1_000_000n;
const multiplierRatio = (multiplier: number): bigint =>
  BigInt(Math.round(multiplier * Number(MULTIPLIER_SCALE)));

/**
 * Worst-case micro-dollars at a provider's multiplier, rounded up: never below the scaled cost.
 * @example scaleMicros(1000, 0.14) // 140
 */
export function scaleMicros(micros: number, multiplier: number): number {
  if (multiplier === 1) return micros;
  return Number((BigInt(micros) * multiplierRatio(multiplier) + MULTIPLIER_SCALE - 1n) / MULTIPLIER_SCALE);
}

/**
 * A cost at a provider's `cost_multiplier` (list × multiplier, rounded up to the picodollar),
 * keeping the list cost beside it.
 * @example scaleCost({ picoUsd: 1_000_000n }, 0.14) // { picoUsd: 140_000n, listPicoUsd: 1_000_000n }
 */
export function scaleCost(cost: Cost, multiplier: number): Cost {
  if (multiplier === 1) return cost;
  const scale = (pico: bigint): bigint => scalePico(pico, multiplier);
  const scaled: Cost = { picoUsd: scale(cost.picoUsd), listPicoUsd: cost.listPicoUsd ?? cost.picoUsd };
  if (cost.cacheSavingsPicoUsd !== undefined) scaled.cacheSavingsPicoUsd = scale(cost.cacheSavingsPicoUsd);
  return scaled;
}

/**
 * Picodollars times a multiplier kept to the millionth, rounded away from zero, so a positive
 * amount never rounds down to less than is owed.
 * @example scalePico(1_000_001n, 1.2) // 1_200_002n
 */
export function scalePico(pico: bigint, multiplier: number): bigint {
  if (multiplier === 1) return pico;
  const product = pico * multiplierRatio(multiplier);
  return product >= 0n ? (product + MULTIPLIER_SCALE - 1n) / MULTIPLIER_SCALE : product / MULTIPLIER_SCALE;
}

/** Finds the price of a (provider, model) pair; null means unpriced (never $0). */
export interface PriceBook {
  lookup(provider: string | null | undefined, model: string | null | undefined): Price | null;
}

const PICO_PER_MICRO = 1_000_000n;
const PICO_PER_USD = 1_000_000_000_000n;

/**
 * Builds the price book: defaults from PRICES.md, then operator rows. An operator row replaces the
 * default row with the same model and provider (aliases included), and adds any other.
 * @example const book = createPriceBook(config.prices); book.lookup("openai", "gpt-4o-mini")
 */
export function createPriceBook(overrides: readonly PriceInput[] = [], defaults = DEFAULT_PRICES): PriceBook {
  const rowKey = (row: PriceInput) => `${row.provider ?? "*"}|${row.model}`;
  const replaced = new Set(overrides.map(rowKey));
  const byName = new Map<string, Price>();
  // Later rows win: kept defaults first, then operator rows (also over a default's alias).
  for (const row of [...defaults.filter((row) => !replaced.has(rowKey(row))), ...overrides]) {
    const price = toPrice(row);
    for (const name of [row.model, ...(row.aliases ?? [])])
      byName.set(`${row.provider ?? "*"}|${name}`, price);
  }

  const find = (provider: string | null | undefined, name: string): Price | undefined =>
    (provider ? byName.get(`${provider}|${name}`) : undefined) ?? byName.get(`*|${name}`);

  return {
    lookup(provider, model) {
      if (!model) return null;
      const undated = withoutDateSuffix(model);
      return find(provider, model) ?? (undated !== model ? find(provider, undated) : undefined) ?? null;
    },
  };
}

/** Providers answer with dated snapshots ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929"). */
function withoutDateSuffix(model: string): string {
  return model.replace(/-(\d{4}-\d{2}-\d{2}|\d{8})$/, "");
}

/**
 * Converts one config row to integer rates. Absent cached/cache-write prices default to input, an
 * absent 1-hour write price to the cache-write price; a tier's absent figures follow its own input.
 */
export function toPrice(row: PriceInput): Price {
  const base = rates(row);
  const tiers = [...(row.tiers ?? [])]
    .sort((a, b) => a.above_prompt_tokens - b.above_prompt_tokens)
    .map((tier) => ({ abovePromptTokens: tier.above_prompt_tokens, rates: rates(tier) }));
  return { model: row.model, provider: row.provider ?? null, base, tiers };
}

function rates(row: Omit<PriceTierInput, "above_prompt_tokens">): PicoRates {
  const input = usdPerMillionToPico(row.input);
  const optional = (usd: number | undefined, fallback: bigint) =>
    usd === undefined ? fallback : usdPerMillionToPico(usd);
  const cacheWrite = optional(row.cache_write, input);
  return {
    input,
    output: usdPerMillionToPico(row.output),
    cachedInput: optional(row.cached_input, input),
    cacheWrite,
    cacheWrite1h: optional(row.cache_write_1h, cacheWrite),
  };
}

/**
 * USD per 1M tokens → picodollars per token, exactly, from the number's shortest decimal form
 * (0.025 → 25000n). Figures finer than a picodollar per token round half up.
 * @example usdPerMillionToPico(0.28) // 280000n
 */
export function usdPerMillionToPico(usdPerMillion: number): bigint {
  if (!Number.isFinite(usdPerMillion) || usdPerMillion < 0)
    throw new RangeError(`invalid price ${usdPerMillion}`);
  return decimalToScaled(String(usdPerMillion), 6);
}

/** A non-negative decimal string (plain or exponent form) times 10^scale, rounded half up. */
function decimalToScaled(text: string, scale: number): bigint {
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match) throw new RangeError(`invalid decimal ${text}`);
  const [, whole = "0", fraction = "", exponent = "0"] = match;
  const digits = whole + fraction;
  const shift = scale + Number(exponent) - fraction.length;
  if (shift >= 0) return BigInt(digits) * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  const value = BigInt(digits);
  return (value + divisor / 2n) / divisor;
}

/** The rates that apply to a prompt of this size (the highest tier it exceeds, else the base). */
export function ratesFor(price: Price, promptTokens: number): PicoRates {
  let chosen = price.base;
  for (const tier of price.tiers) if (promptTokens > tier.abovePromptTokens) chosen = tier.rates;
  return chosen;
}

/**
 * Exact cost of a request. Cached reads and cache writes are parts of promptTokens and are billed
 * at their own rates only (1-hour writes, a part of the writes, at theirs), so no cached token is counted twice; reasoning tokens are inside
 * completionTokens and billed at the output rate.
 * @example costOf(book.lookup("openai", "gpt-4.1")!, usage).picoUsd
 */
export function costOf(price: Price, usage: TokenUsage): Cost {
  const r = ratesFor(price, usage.promptTokens);
  const prompt = count(usage.promptTokens);
  const cachedRead = count(usage.cachedReadTokens);
  const cacheWrite = count(usage.cacheWriteTokens);
  const cacheWrite1h = min(count(usage.cacheWrite1hTokens ?? 0), cacheWrite);
  // A misreporting adapter must not make the cost negative.
  const uncached = prompt - cachedRead - cacheWrite > 0n ? prompt - cachedRead - cacheWrite : 0n;
  const cachedPrompt =
    cachedRead * r.cachedInput + (cacheWrite - cacheWrite1h) * r.cacheWrite + cacheWrite1h * r.cacheWrite1h;
  const picoUsd = uncached * r.input + cachedPrompt + count(usage.completionTokens) * r.output;
  const cacheSavingsPicoUsd = (cachedRead + cacheWrite) * r.input - cachedPrompt;
  return cacheSavingsPicoUsd === 0n ? { picoUsd } : { picoUsd, cacheSavingsPicoUsd };
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function count(tokens: number): bigint {
  return Number.isFinite(tokens) && tokens > 0 ? BigInt(Math.trunc(tokens)) : 0n;
}

/**
 * The most a request can cost, in integer micro-dollars rounded up, for budget reservations:
 * every prompt token at the dearest prompt rate (a cache write can cost more than input) plus the
 * full output allowance.
 * @example worstCaseMicros(price, 1200, 4096)
 */
export function worstCaseMicros(price: Price, promptTokens: number, maxOutputTokens: number): number {
  const r = ratesFor(price, promptTokens);
  let dearestPrompt = r.input;
  if (r.cachedInput > dearestPrompt) dearestPrompt = r.cachedInput;
  if (r.cacheWrite > dearestPrompt) dearestPrompt = r.cacheWrite;
  if (r.cacheWrite1h > dearestPrompt) dearestPrompt = r.cacheWrite1h;
  return toMicrosCeil(count(promptTokens) * dearestPrompt + count(maxOutputTokens) * r.output);
}

/**
 * Exact decimal USD for the numeric column, trailing zeros trimmed.
 * @example formatUsd(1_234_500_000n) // "0.0012345"
 */
export function formatUsd(picoUsd: bigint): string {
  const negative = picoUsd < 0n;
  const abs = negative ? -picoUsd : picoUsd;
  const whole = abs / PICO_PER_USD;
  const fraction = (abs % PICO_PER_USD).toString().padStart(12, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/**
 * USD as a JS number for JSON (`usage.cost`): the nearest double to the exact decimal.
 * @example toUsdNumber(1_234_500_000n) // 0.0012345
 */
export function toUsdNumber(picoUsd: bigint): number {
  return Number(formatUsd(picoUsd));
}

/**
 * Integer micro-dollars rounded up, for budget counters (a fraction of a micro-dollar still counts).
 * @example toMicrosCeil(1n) // 1
 */
export function toMicrosCeil(picoUsd: bigint): number {
  if (picoUsd <= 0n) return 0;
  return Number((picoUsd + PICO_PER_MICRO - 1n) / PICO_PER_MICRO);
}

/** Parses an exact decimal USD string (as stored) back to picodollars. */
export function parseUsd(usd: string): bigint {
  const negative = usd.startsWith("-");
  const value = decimalToScaled(negative ? usd.slice(1) : usd, 12);
  return negative ? -value : value;
}
