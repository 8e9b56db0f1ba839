/** Per-request mock options, read from `x-mock-*` headers or from `+name=value` model-name suffixes. */

/** What a test can choose about one mock answer. */
export interface MockOptions {
  /** Exact reply text. */
  reply?: string;
  /** Exact word count of the default reply. */
  words?: number;
  /** Prompt tokens reported as read from cache. */
  cachedTokens: number;
  /** Prompt tokens reported as written to cache (Anthropic cache_creation_input_tokens). */
  cacheWriteTokens: number;
  /** Reasoning ("thinking") tokens reported on top of the visible reply. */
  reasoningTokens: number;
  /** How many tool calls to make when the request offers tools. */
  parallelTools: number;
  /** Pause between stream chunks, in milliseconds. */
  chunkDelayMs: number;
  /** Pause before the first answer byte (headers included), in milliseconds: a distant provider's TTFB. */
  ttfbMs: number;
  /** Fault spec, see faults.ts. */
  fault?: string;
}

/** Option names as they appear after `x-mock-` in headers and before `=` in model suffixes. */
export const OPTION_NAMES = [
  "reply",
  "words",
  "cached-tokens",
  "cache-write-tokens",
  "reasoning-tokens",
  "parallel-tools",
  "chunk-delay-ms",
  "ttfb-ms",
  "fault",
] as const;

type OptionName = (typeof OPTION_NAMES)[number];

/** A model name split into the name to echo and the mock options it carries. */
export interface ModelName {
  /** The model without any `+name=value` suffix. */
  model: string;
  /** Suffix options, by option name. */
  suffix: Record<string, string>;
}

/** Thrown for a malformed mock option; the server answers 400 in the route's wire format. */
export class MockOptionError extends Error {}

/**
 * Splits `<model>+name=value+name=value` into the model and its options.
 * @example splitModelName("gpt-4o+fault=status-503,times-2") // { model: "gpt-4o", suffix: { fault: "status-503,times-2" } }
 */
export function splitModelName(raw: string): ModelName {
  const [model = "", ...parts] = raw.split("+");
  const suffix: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new MockOptionError(`mock: model suffix "+${part}" is not name=value`);
    suffix[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { model, suffix };
}

/**
 * Reads the mock options of a request. Headers win over model-name suffixes; unknown suffix names
 * and non-numeric counts are errors so a typo in a test fails loudly.
 */
export function readMockOptions(
  headers: Record<string, string>,
  suffix: Record<string, string>,
): MockOptions {
  for (const name of Object.keys(suffix)) {
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw new MockOptionError(`mock: unknown model suffix option "${name}"`);
    }
  }
  const raw = (name: OptionName): string | undefined => headers[`x-mock-${name}`] ?? suffix[name];
  const count = (name: OptionName): number | undefined => {
    const value = raw(name);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value.trim())) throw new MockOptionError(`mock: ${name} must be a whole number`);
    return Number(value);
  };
  return {
    reply: raw("reply"),
    words: count("words"),
    cachedTokens: count("cached-tokens") ?? 0,
    cacheWriteTokens: count("cache-write-tokens") ?? 0,
    reasoningTokens: count("reasoning-tokens") ?? 0,
    parallelTools: Math.max(1, count("parallel-tools") ?? 1),
    chunkDelayMs: count("chunk-delay-ms") ?? 0,
    ttfbMs: count("ttfb-ms") ?? 0,
    fault: raw("fault")?.trim() || undefined,
  };
}
