import type { z } from "zod";
import { type Config, ConfigSchema } from "./schema";

/** A configuration that failed validation; the message names the path of every bad field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Bindings the worker reads; everything else in env is a provider secret named by config. */
export interface GatewayEnv {
  /** JSON (string or object var) validated by ConfigSchema. */
  SLUICE_CONFIG?: string | object;
  ADMIN_TOKEN?: string;
  /** Public JWKS (JSON) that verifies API keys. */
  SLUICE_JWKS?: string;
  /** Private JWK (JSON) used by the admin API to mint keys. */
  SLUICE_SIGNING_KEY?: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  DATABASE_URL?: string;
  /** Local development only: where neon()'s SQL-over-HTTP requests go. */
  NEON_FETCH_ENDPOINT?: string;
  [secret: string]: unknown;
}

const parsed = new WeakMap<object, Config>();
let lastRaw: { raw: string; config: Config } | undefined;

/**
 * Validates the config once per isolate (cached by the env's identity and raw text).
 * @example const config = loadConfig(env); config.routes["gpt-4o-mini"]
 */
export function loadConfig(env: GatewayEnv): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const raw = env.SLUICE_CONFIG ?? {};
  const text = typeof raw === "string" ? raw : JSON.stringify(raw);
  if (lastRaw?.raw === text) return remember(env, lastRaw.config);
  let json: unknown;
  try {
    json = JSON.parse(text || "{}");
  } catch (err) {
    throw new ConfigError(`SLUICE_CONFIG is not valid JSON: ${(err as Error).message}`);
  }
  const result = ConfigSchema.safeParse(json);
  if (!result.success) throw new ConfigError(`invalid SLUICE_CONFIG:\n${describeIssues(result.error)}`);
  lastRaw = { raw: text, config: result.data };
  return remember(env, result.data);
}

function remember(env: GatewayEnv, config: Config): Config {
  parsed.set(env, config);
  return config;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`).join("\n");
}
