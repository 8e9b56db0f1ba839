import type { Redis } from "@upstash/redis/cloudflare";
import { createKeyVerifier, importSigningKey, type KeyVerifier, parseJwks, type SigningKey } from "./auth";
import { type Billing, createBilling } from "./billing/billed";
import { type CacheStores, createCacheStores } from "./cache";
import { type Config, type GatewayEnv, loadConfig, ownValue } from "./config";
import { type DatabaseHandle, lazyDatabase } from "./db/lazy";
import { GatewayError } from "./errors";
import { lazily } from "./lazy";
import {
  createGate,
  createLimitsRedis,
  createRevocationCache,
  type RevocationCache,
  scriptRunner,
} from "./limits";
import type { Gate } from "./limits/types";
import { consoleLog, type Log } from "./log";
import { createMeter, createUsageWriter, type Meter } from "./metering";
import { createMetrics, type Metrics } from "./metrics";
import { createBreakerPublisher, type Tracing } from "./observability";
import { type BreakerTransition, CircuitBreakers, createLatencyPublisher, LatencyTracker } from "./routing";
import { sleep } from "./timers";

/** Everything a request needs, built once per isolate from env; tests override parts of it. */
export interface Services {
  env: GatewayEnv;
  config: Config;
  /** Milliseconds since the epoch; injectable so tests control time. */
  now: () => number;
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Outbound fetch for upstream calls; injectable so tests can count or fail requests. */
  fetcher: typeof fetch;
  /** Structured log line; callers pass ids and counts, never secrets or tokens. */
  log: Log;
  verifier: KeyVerifier;
  /** The private key the admin API mints with, imported from SLUICE_SIGNING_KEY on first use. */
  signer(): Promise<SigningKey>;
  redis: Redis;
  /** Postgres, opened on first use (never on the hot path: usage rows go in waitUntil). */
  db: DatabaseHandle;
  gate: Gate;
  /** Revocation for routes that skip the gate (memoised reads). */
  revocations: RevocationCache;
  meter: Meter;
  /** Billed prices apart from cost (plan and tenant terms). */
  billing: Billing;
  /** Live metrics: finished requests counted in the isolate, sent with the settlement batches. */
  metrics: Metrics;
  /** Response-cache stores waiting to ride the next settlement batch. */
  cacheStores: CacheStores;
  /**
   * OpenTelemetry traces, loaded on first use (the SDK stays out of an isolate's start); null
   * unless `tracing.otlp_endpoint` is configured.
   */
  tracing: (() => Promise<Tracing | null>) | null;
  breakers: CircuitBreakers;
  /** Recent latency per target (`fastest` routes), shared with the settlement batches. */
  latency: LatencyTracker;
  /** Shares a breaker transition with every instance through Redis, counts and alerts it (run in waitUntil). */
  publishBreaker(target: string, transition: NonNullable<BreakerTransition>): Promise<void>;
}

export type ServiceOverrides = Partial<Pick<Services, "now" | "random" | "sleep" | "fetcher" | "log">>;

/**
 * Builds the services for an env; fails with the path of the bad field when config is invalid.
 * @example const services = createServices(env, { now: () => fixedTime })
 */
export function createServices(env: GatewayEnv, overrides: ServiceOverrides = {}): Services {
  const config = loadConfig(env);
  const now = overrides.now ?? Date.now;
  const log = overrides.log ?? consoleLog;
  const redis = createLimitsRedis({
    url: requireBinding(env, "UPSTASH_REDIS_REST_URL"),
    token: requireBinding(env, "UPSTASH_REDIS_REST_TOKEN"),
  });
  const db = lazyDatabase(requireBinding(env, "DATABASE_URL"), env.NEON_FETCH_ENDPOINT);
  const breakers = new CircuitBreakers(config.breaker, now);
  const latency = new LatencyTracker(now);
  // One runner for the gate and the metrics: a tick's commands share one pipeline request.
  const runner = scriptRunner(redis);
  const metrics = createMetrics({ runner, config: config.metrics, now, log });
  // Sent with each settlement batch: the isolate's metrics, its new latency estimates and its
  // response-cache stores.
  const cacheStores = createCacheStores(runner, log);
  const companions = [metrics, createLatencyPublisher({ runner, tracker: latency, log }), cacheStores];
  const billing = createBilling(config);
  let signing: Promise<SigningKey> | undefined;
  return {
    env,
    config,
    now,
    random: overrides.random ?? Math.random,
    sleep: overrides.sleep ?? sleep,
    fetcher: overrides.fetcher ?? ((input, init) => fetch(input, init)),
    log,
    verifier: keyVerifier(env, config, now),
    signer() {
      signing ??= loadSigner(env);
      return signing;
    },
    redis,
    db,
    gate: createGate({ redis, config, now, log, runner, companions }),
    revocations: createRevocationCache(redis, now),
    meter: createMeter({
      prices: config.prices,
      costMultiplier: (provider) =>
        (provider ? ownValue(config.providers, provider)?.cost_multiplier : 1) ?? 1,
      billed: (payer, model, usage, cost) => billing.billed(payer, model, usage, cost),
      writer: createUsageWriter({ db, redis, log }),
      now,
    }),
    billing,
    metrics,
    cacheStores,
    tracing: lazyTracing(env, config, now, log),
    breakers,
    latency,
    // Shared state, the openings counter and the alert: one script per transition.
    publishBreaker: createBreakerPublisher({ runner, config, now, log }),
  };
}

/** The API-key verifier: the worker's own JWKS and the trusted external issuers. */
function keyVerifier(env: GatewayEnv, config: Config, now: () => number): KeyVerifier {
  return createKeyVerifier({
    jwks: parseJwks(typeof env.SLUICE_JWKS === "string" ? env.SLUICE_JWKS : '{"keys":[]}'),
    issuer: config.issuer,
    audience: config.audience,
    now,
    externalIssuers: config.trusted_issuers.map((i) => ({
      issuer: i.issuer,
      jwksUrl: i.jwks_url,
      audience: i.audience,
      tenantClaim: i.tenant_claim,
      planClaim: i.plan_claim,
      defaultPlan: i.default_plan,
      models: i.models,
    })),
  });
}

/** The OpenTelemetry SDK, loaded with the first traced request; null when tracing is not configured. */
function lazyTracing(env: GatewayEnv, config: Config, now: () => number, log: Log): Services["tracing"] {
  if (!config.tracing.otlp_endpoint) return null;
  const headers = collectorHeaders(env, config.tracing.headers_secret);
  return lazily(() =>
    import("./observability/tracing").then((module) =>
      module.createTracing({
        config: config.tracing,
        headers,
        // Not `fetcher`: tests count upstream calls through it.
        fetcher: (input, init) => fetch(input, init),
        now,
        log,
      }),
    ),
  );
}

/** The collector's extra headers: a JSON object of strings in the named secret, else none. */
function collectorHeaders(env: GatewayEnv, secret: string | undefined): Record<string, string> {
  const raw = secret ? env[secret] : undefined;
  if (typeof raw !== "string") return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null) return {};
    const strings = Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string");
    return Object.fromEntries(strings);
  } catch {
    return {};
  }
}

function requireBinding(env: GatewayEnv, name: string): string {
  const value = env[name];
  if (typeof value !== "string" || value === "") throw new Error(`missing binding ${name}`);
  return value;
}

/**
 * Imports the minting key, refusing one whose kid the worker's own JWKS lacks: keys minted with it
 * would never verify. Errors name the secret, never its content.
 */
async function loadSigner(env: GatewayEnv): Promise<SigningKey> {
  const secret = env.SLUICE_SIGNING_KEY;
  if (typeof secret !== "string" || secret.trim() === "") {
    throw new GatewayError({
      status: 503,
      type: "server_error",
      message: "Key minting is not configured: set the SLUICE_SIGNING_KEY secret.",
      code: "signing_key_missing",
    });
  }
  let signer: SigningKey;
  let kids: unknown[];
  try {
    signer = await importSigningKey(secret);
    kids = parseJwks(typeof env.SLUICE_JWKS === "string" ? env.SLUICE_JWKS : "").keys.map((key) => key.kid);
  } catch {
    throw new GatewayError({
      status: 500,
      type: "server_error",
      message: "SLUICE_SIGNING_KEY or SLUICE_JWKS is not a valid key.",
      code: "signing_key_invalid",
    });
  }
  if (!kids.includes(signer.kid)) {
    throw new GatewayError({
      status: 500,
      type: "server_error",
      message: `The signing key's kid '${signer.kid}' is not in SLUICE_JWKS: publish its public key before minting with it.`,
      code: "signing_key_unpublished",
    });
  }
  return signer;
}
