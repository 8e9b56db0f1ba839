/** Built-in provider presets: `{"preset": "deepseek"}` is enough to configure a known vendor. */
export const PROVIDER_PRESETS = {
  openai: { kind: "openai", base_url: "https://api.openai.com/v1", api_key_secret: "OPENAI_API_KEY" },
  deepseek: { kind: "openai", base_url: "https://api.deepseek.com/v1", api_key_secret: "DEEPSEEK_API_KEY" },
  holysheep: { kind: "openai", base_url: "https://api.holysheep.ai/v1", api_key_secret: "HOLYSHEEP_API_KEY" },
  anthropic: {
    kind: "anthropic",
    base_url: "https://api.anthropic.com",
    api_key_secret: "ANTHROPIC_API_KEY",
  },
  gemini: {
    kind: "gemini",
    base_url: "https://generativelanguage.googleapis.com/v1beta",
    api_key_secret: "GEMINI_API_KEY",
  },
} as const;

export type PresetName = keyof typeof PROVIDER_PRESETS;
