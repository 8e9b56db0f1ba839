import { globMatch } from "../auth";
import { type Config, ownValue } from "../config";
import type { BillingTermsConfig } from "../config/billing";
import { requestWorstCase, type WorstCaseInput } from "../estimate";
import { costOf, type Price, scaleMicros, scalePico, toPrice, worstCaseMicros } from "../metering/prices";
import type { TokenUsage } from "../providers/types";

/** Who pays: the caller's tenant and its key's plan (null: the default plan). */
export interface Payer {
  tenant: string;
  plan: string | null;
}

type WorstCasePrice = WorstCaseInput["price"];

/** One plan's or tenant's terms, compiled once: 1 + markup, and the explicit prices by model glob. */
interface Terms {
  multiplier: number;
  prices: { pattern: string; price: Price }[];
}

/**
 * Billed prices apart from cost. A tenant's terms (`billing.tenants`) replace its plan's
 * (`billing.plans`); a caller with neither is billed at cost. Everything is integer picodollars,
 * rounded up, as costs are. A response-cache hit costs 0 and so bills 0: the stored answer was
 * billed when it was made, and a cache is the gateway's saving to pass on, not a second sale.
 */
export interface Billing {
  /**
   * What a finished request bills, in picodollars, given its exact cost. An explicit price for the
   * requested model prices the tokens itself; otherwise cost × (1 + markup).
   * @example billing.billed({ tenant: "acme", plan: "pro" }, "gpt-4o-mini", usage, 1_000_000n)
   */
  billed(payer: Payer, requestedModel: string | null, usage: TokenUsage, costPicoUsd: bigint): bigint;
  /**
   * The worst case of a request at the billed price, in micro-dollars (null: unpriced): what a
   * prepaid balance must hold. `input` is the one its cost worst case (`costMicros`) came from.
   * @example billing.worstCaseMicros(caller, body.model, input, requestWorstCase(input).micros)
   */
  worstCaseMicros(
    payer: Payer,
    requestedModel: string,
    input: WorstCaseInput,
    costMicros: number | null,
  ): number | null;
}

/**
 * Compiles the config's billing terms once (names in Maps: a tenant called `__proto__` finds nothing).
 * @example const billing = createBilling(config)
 */
export function createBilling(config: Config): Billing {
  const plans = compileAll(config.billing.plans);
  const tenants = compileAll(config.billing.tenants);
  const termsOf = (payer: Payer): Terms | null => {
    // A plan the config does not define bills as the default plan, as its limits do.
    const plan =
      payer.plan !== null && ownValue(config.plans, payer.plan) !== undefined
        ? payer.plan
        : config.default_plan;
    return tenants.get(payer.tenant) ?? plans.get(plan) ?? null;
  };
  return {
    billed(payer, requestedModel, usage, costPicoUsd) {
      const terms = termsOf(payer);
      if (!terms) return costPicoUsd;
      const explicit = priceFor(terms, requestedModel);
      if (explicit) return costOf(explicit, usage).picoUsd;
      return scalePico(costPicoUsd, terms.multiplier);
    },
    worstCaseMicros(payer, requestedModel, input, costMicros) {
      const terms = termsOf(payer);
      const price = terms && billedWorstCase(terms, requestedModel, input.price);
      return price ? requestWorstCase({ ...input, price }).micros : costMicros;
    },
  };
}

/** The billed worst case of a call at one target; null when the terms bill at cost. */
function billedWorstCase(
  terms: Terms,
  requestedModel: string,
  costPrice: WorstCasePrice,
): WorstCasePrice | null {
  const explicit = priceFor(terms, requestedModel);
  if (explicit) return (_provider, _model, prompt, output) => worstCaseMicros(explicit, prompt, output);
  if (terms.multiplier === 1) return null;
  return (provider, model, prompt, output) => {
    const cost = costPrice(provider, model, prompt, output);
    return cost === null ? null : scaleMicros(cost, terms.multiplier);
  };
}

function compileAll(record: Record<string, BillingTermsConfig>): Map<string, Terms> {
  const compiled = new Map<string, Terms>();
  for (const [name, terms] of Object.entries(record)) {
    compiled.set(name, {
      multiplier: 1 + terms.markup,
      prices: terms.prices.map((row) => ({ pattern: row.model, price: toPrice(row) })),
    });
  }
  return compiled;
}

function priceFor(terms: Terms, model: string | null): Price | null {
  if (model === null) return null;
  for (const row of terms.prices) if (globMatch(row.pattern, model)) return row.price;
  return null;
}
