import type { Endpoint } from "../providers/types";

/** The most one request may use, reserved before the upstream call and settled to the real use after. */
export interface WorstCase {
  /** Prompt estimate plus every output token it may generate: reserved against the token rate. */
  tokens: number;
  /** Its cost at the dearest priced target it may reach, in micro-dollars; null when none is priced. */
  micros: number | null;
  /** The same estimate at each target, in the order given (null: unpriced): `cheapest` orders by it. */
  perTarget: (number | null)[];
}

export interface WorstCaseInput {
  endpoint: Endpoint;
  /** The body sent upstream (OpenAI shape): where `n`, `best_of` and batched prompts are read. */
  body: Record<string, unknown>;
  promptTokens: number;
  /** Output tokens of ONE choice (max_tokens, or the route's default). */
  maxOutputTokens: number;
  /** Every target the route may try, fallbacks included. */
  targets: readonly { provider: string; model: string }[];
  /** Worst-case micro-dollars of a call at one target; null when that target is unpriced. */
  price: (provider: string, model: string, promptTokens: number, outputTokens: number) => number | null;
}

/**
 * What a request may use at most: its prompt plus `maxOutputTokens` for every choice the upstream
 * generates, priced at the dearest target the route can fall back to (so a fallback can never
 * spend past a budget the first target fitted in). Unpriced targets are skipped: their cost is
 * unknown, and a route with no priced target reserves nothing (null), as an unpriced model does.
 * @example requestWorstCase({ endpoint: "chat", body, promptTokens: 12, maxOutputTokens: 1000, targets: route.targets, price: meter.worstCaseMicros })
 */
export function requestWorstCase(input: WorstCaseInput): WorstCase {
  const outputTokens = input.maxOutputTokens * generatedChoices(input.endpoint, input.body);
  let micros: number | null = null;
  const perTarget: (number | null)[] = [];
  for (const target of input.targets) {
    const cost = input.price(target.provider, target.model, input.promptTokens, outputTokens);
    perTarget.push(cost);
    if (cost !== null && (micros === null || cost > micros)) micros = cost;
  }
  return { tokens: input.promptTokens + outputTokens, micros, perTarget };
}

/**
 * Completions the upstream generates (and bills) for one request: `n` for chat; for legacy
 * completions `best_of` (generated server-side, `n` of them returned) times the prompts batched
 * in `prompt`. Embeddings generate nothing, but 1 keeps the product neutral.
 */
function generatedChoices(endpoint: Endpoint, body: Record<string, unknown>): number {
  const n = positiveInt(body.n) ?? 1;
  if (endpoint !== "completions") return n;
  return Math.max(n, positiveInt(body.best_of) ?? 1) * promptCount(body.prompt);
}

/** A string or one token array is one prompt; an array of strings or of token arrays is several. */
function promptCount(prompt: unknown): number {
  if (!Array.isArray(prompt) || prompt.length === 0) return 1;
  return prompt.every((item) => typeof item === "number") ? 1 : prompt.length;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}
