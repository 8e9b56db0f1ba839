/**
 * Your own setup for `npm run dev`: an optional `sluice.config.json` (providers, routes, plans,
 * prices: the SLUICE_CONFIG a deploy uses) and provider keys from the environment or a git-ignored
 * `.dev.vars`. Without a config file, dev serves the mock configuration. Either way the result is
 * validated here, at start, by the worker's own `loadConfig`, so a bad field fails with the same
 * message production gives.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { loadConfig } from "../src/config";
import { devConfig } from "./dev-config";

export interface DevSetup {
  /** The SLUICE_CONFIG to serve, as JSON text. */
  configJson: string;
  /** Provider secret name → value, only the ones the config names. */
  secrets: Record<string, string>;
  /** Where the config came from: the file's path, "mock", or "mock+keys" (some models on real vendors). */
  source: string;
  /** Route name → provider names, for the start banner. */
  routes: Record<string, string[]>;
}

export interface DevSetupOptions {
  root: string;
  mockUrl: string;
  env: NodeJS.ProcessEnv;
}

/** Reads a JSON object file, failing with its path. */
function readJsonObject(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${path} must hold a JSON object (the SLUICE_CONFIG), see sluice.config.example.json`);
  }
  return value as Record<string, unknown>;
}

/**
 * The config file's settings over the mock ones: the mock providers stay defined (a config may
 * route to them), the file's providers are added or replace them, and its routes (when it has
 * any) replace the mock routes.
 */
function mergeWithMock(file: Record<string, unknown>, mockUrl: string): Record<string, unknown> {
  const mock = devConfig(mockUrl);
  const providers = { ...(mock.providers as object), ...((file.providers as object | undefined) ?? {}) };
  return { ...file, providers, routes: file.routes ?? mock.routes };
}

/** The dev models each preset serves for real, in fallback order, when its key is set. */
const REAL_PROVIDERS: [preset: string, secret: string, models: string[]][] = [
  ["openai", "OPENAI_API_KEY", ["gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"]],
  ["holysheep", "HOLYSHEEP_API_KEY", ["gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"]],
  ["deepseek", "DEEPSEEK_API_KEY", ["deepseek-chat"]],
  ["anthropic", "ANTHROPIC_API_KEY", ["claude-sonnet-4-5"]],
  ["gemini", "GEMINI_API_KEY", ["gemini-2.5-flash"]],
];

/**
 * The mock setup, except that a dev model whose vendor's key is set (OPENAI_API_KEY, ...) goes to
 * that vendor for real: `OPENAI_API_KEY=sk-... npm run dev` calls OpenAI for the gpt models.
 */
function mockWithRealKeys(
  mockUrl: string,
  keys: (name: string) => string | undefined,
): Record<string, unknown> {
  const mock = devConfig(mockUrl);
  const providers: Record<string, unknown> = { ...(mock.providers as object) };
  const routes: Record<string, unknown> = { ...(mock.routes as object) };
  const targets = new Map<string, { provider: string; model: string }[]>();
  for (const [preset, secret, models] of REAL_PROVIDERS) {
    if (!keys(secret)) continue;
    providers[preset] = { preset };
    for (const model of models)
      targets.set(model, [...(targets.get(model) ?? []), { provider: preset, model }]);
  }
  for (const [model, list] of targets) routes[model] = { targets: list };
  return { ...mock, providers, routes };
}

/**
 * Builds dev's config and provider secrets.
 * @example const setup = loadDevSetup({ root, mockUrl: stack.mockUrl, env: process.env });
 */
export function loadDevSetup(options: DevSetupOptions): DevSetup {
  const { root, env } = options;
  const configPath = env.SLUICE_CONFIG_FILE || join(root, "sluice.config.json");
  const hasFile = existsSync(configPath);
  if (!hasFile && env.SLUICE_CONFIG_FILE) throw new Error(`SLUICE_CONFIG_FILE: no file at ${configPath}`);
  const varsPath = env.SLUICE_DEV_VARS || join(root, ".dev.vars");
  const fileVars = existsSync(varsPath) ? parseEnv(readFileSync(varsPath, "utf8")) : {};
  const key = (name: string) => env[name] || fileVars[name] || undefined;
  const raw = hasFile
    ? mergeWithMock(readJsonObject(configPath), options.mockUrl)
    : mockWithRealKeys(options.mockUrl, key);
  const configJson = JSON.stringify(raw);
  // The worker's own validation: the same ConfigError, naming the bad field, as in production.
  const config = loadConfig({ SLUICE_CONFIG: configJson });
  const secrets: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    const secret = provider.api_key_secret;
    if (secret === undefined || secret === "MOCK_API_KEY") continue;
    const value = key(secret);
    if (value) secrets[secret] = value;
    else missing.push(`provider "${name}" needs ${secret}`);
  }
  if (missing.length > 0) {
    throw new Error(
      `missing provider keys: ${missing.join("; ")}. Set them in the environment or in ${varsPath} (NAME=value lines).`,
    );
  }
  const routes = Object.fromEntries(
    Object.entries(config.routes).map(([name, route]) => [name, route.targets.map((t) => t.provider)]),
  );
  const real = Object.keys(secrets).length > 0;
  return { configJson, secrets, source: hasFile ? configPath : real ? "mock+keys" : "mock", routes };
}
