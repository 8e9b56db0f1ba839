import { anthropicAdapter } from "./anthropic";
import { geminiAdapter } from "./gemini";
import { openaiAdapter } from "./openai";
import type { ProviderAdapter, WireFormat } from "./types";

export { readOpenAIUsage } from "./openai";
export * from "./types";

const ADAPTERS: Partial<Record<WireFormat, ProviderAdapter>> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};

/** The adapter for a wire format; throws for a format this build does not speak. */
export function adapterFor(kind: WireFormat): ProviderAdapter {
  const adapter = ADAPTERS[kind];
  if (!adapter) throw new Error(`no adapter for wire format "${kind}"`);
  return adapter;
}
