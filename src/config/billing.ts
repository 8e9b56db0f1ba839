import * as z from "zod";

const usd = z.number().nonnegative();

/** A billed price for the models a glob matches (the model the caller asked for), USD per 1M tokens. */
const BilledPriceSchema = z.strictObject({
  /** Glob on the requested model (`*` any run, `?` one character), e.g. `gpt-4o*`. */
  model: z.string().min(1).max(200),
  input: usd,
  output: usd,
  cached_input: usd.optional(),
  cache_write: usd.optional(),
  cache_write_1h: usd.optional(),
});

/**
 * What a plan or tenant is billed: an explicit price for the models its `prices` match (first
 * match wins), else the provider cost times 1 + `markup` (0.2: billed = 1.2 × cost). Neither set:
 * billed = cost.
 */
export const BillingTermsSchema = z.strictObject({
  /** Kept to the millionth, so billed = cost × an exact integer ratio. */
  markup: z.number().min(0).max(100).default(0),
  prices: z.array(BilledPriceSchema).max(1000).default([]),
});

/** Billed prices apart from cost: per plan, and per tenant (a tenant's terms replace its plan's). */
export const BillingSchema = z.object({
  plans: z.record(z.string(), BillingTermsSchema).default({}),
  tenants: z.record(z.string(), BillingTermsSchema).default({}),
});

export type BillingTermsConfig = z.output<typeof BillingTermsSchema>;
export type BillingConfig = z.output<typeof BillingSchema>;
