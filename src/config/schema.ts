import * as z from "zod";
import { BillingSchema } from "./billing";
import { checkDowngrades } from "./downgrades";
import { ownValue } from "./lookup";
import { AlertsSchema, MetricsSchema, TracingSchema } from "./observability";
import { PROVIDER_PRESETS } from "./presets";

const usd = z.number().nonnegative();
const positiveInt = z.number().int().positive();

const ProviderSchema = z
  .object({
    preset: z.enum(Object.keys(PROVIDER_PRESETS) as [keyof typeof PROVIDER_PRESETS]).optional(),
    kind: z.enum(["openai", "anthropic", "gemini"]).optional(),
    base_url: z.url().optional(),
    /** Name of the env secret holding the API key (never the key itself). */
    api_key_secret: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /**
     * Whether the provider serves OpenAI's Responses API (`POST /responses`): then /v1/responses
     * bodies go to it as they are (built-in tools included). Default: on for the `openai` preset.
     */
    responses_api: z.boolean().optional(),
    /**
     * What this provider really charges as a share of the list price (a relay at 14% of list:
     * 0.14). Usage rows keep both: `cost_usd` (list × multiplier) and `list_cost_usd`.
     */
    cost_multiplier: z.number().positive().max(1000).default(1),
  })
  .superRefine((p, ctx) => {
    if (!p.preset && !p.kind)
      ctx.addIssue({ code: "custom", path: ["kind"], message: "set kind or a preset" });
    if (!p.preset && !p.base_url)
      ctx.addIssue({ code: "custom", path: ["base_url"], message: "set base_url or a preset" });
  })
  .transform((p) => {
    const preset = p.preset ? PROVIDER_PRESETS[p.preset] : undefined;
    return {
      // Both are present: the refinement above guarantees it.
      kind: (p.kind ?? preset?.kind) as "openai" | "anthropic" | "gemini",
      base_url: (p.base_url ?? preset?.base_url ?? "").replace(/\/+$/, ""),
      api_key_secret: p.api_key_secret ?? preset?.api_key_secret,
      headers: p.headers,
      responses_api: p.responses_api ?? p.preset === "openai",
      cost_multiplier: p.cost_multiplier,
    };
  });

const TargetSchema = z.object({
  provider: z.string().min(1),
  model: z.string().min(1),
  weight: z.number().positive().default(1),
});

const RouteSchema = z.object({
  /** How targets are ordered: as listed, by weight, by effective price, or by recent latency (src/routing/). */
  strategy: z.enum(["fallback", "loadbalance", "cheapest", "fastest"]).default("fallback"),
  /** `fastest`: share of requests sent first to the least recently measured target, so none starves. */
  explore_ratio: z.number().min(0).max(1).default(0.05),
  /** Budget share (spent / limit, the key's or tenant's nearest to its limit) from which `downgrade_to` serves. */
  downgrade_at: z.number().gt(0).max(1).optional(),
  /** The cheaper route used past `downgrade_at`; must exist, and downgrades must not form a cycle. */
  downgrade_to: z.string().min(1).optional(),
  targets: z.array(TargetSchema).min(1),
  /** Extra attempts on the same target for a retryable failure before moving on. */
  retries: z.number().int().min(0).max(5).default(1),
  first_byte_timeout_ms: positiveInt.default(60_000),
  idle_timeout_ms: positiveInt.default(30_000),
  /** Output tokens assumed for reservations when the request sets no max_tokens. */
  max_output_tokens: positiveInt.default(4096),
  /**
   * Opt-in: OpenAI-format requests (Chat Completions, Responses) bound for Claude get Anthropic
   * cache breakpoints on their stable prefix (system, tools, earlier turns), within the limit of four.
   */
  prompt_caching: z.object({ ttl: z.enum(["5m", "1h"]).default("5m") }).optional(),
  /**
   * Opt-in: streamed Chat Completions answered by an OpenAI-compatible target are forwarded by the
   * runtime as the provider sent them (~5 us of CPU per event instead of ~35), metered from a copy.
   * The caller then gets the provider's usage chunk as it is: always (the gateway asks for it to
   * meter), without `usage.cost`.
   */
  stream_passthrough: z.boolean().default(false),
  /** Opt-in response cache (src/cache/): exact repeats answered from Redis. */
  cache: z
    .object({
      ttl_seconds: positiveInt.max(30 * 86_400).default(3600),
      /** Largest compressed entry stored; bigger answers are served but not cached. */
      max_entry_bytes: positiveInt.max(1_000_000).default(256_000),
      /** Requests sampled above this temperature are not cached (their answers vary by design). */
      max_temperature: z.number().min(0).max(2).default(0),
    })
    .optional(),
});

const LimitsSchema = z.object({
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  concurrency: positiveInt.optional(),
  budget_usd_day: usd.optional(),
  budget_usd_month: usd.optional(),
  /**
   * The longest the response cache may keep answers for this plan's keys (a ceiling on a cached
   * route's `ttl_seconds`); 0 turns the cache off for them. A key's own value can only lower it.
   */
  cache_max_ttl_seconds: z.int().min(0).max(2_592_000).optional(),
});

const PriceTierSchema = z.object({
  above_prompt_tokens: positiveInt,
  input: usd,
  output: usd,
  cached_input: usd.optional(),
  cache_write: usd.optional(),
  cache_write_1h: usd.optional(),
});

const PriceSchema = z.object({
  model: z.string().min(1),
  provider: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  input: usd,
  output: usd,
  cached_input: usd.optional(),
  cache_write: usd.optional(),
  /** Anthropic's 1-hour cache writes (`ephemeral_1h_input_tokens`); absent, they cost `cache_write`. */
  cache_write_1h: usd.optional(),
  tiers: z.array(PriceTierSchema).optional(),
});

const TrustedIssuerSchema = z.object({
  issuer: z.string().min(1),
  jwks_url: z.url(),
  audience: z.string().min(1),
  tenant_claim: z.string().default("sub"),
  plan_claim: z.string().optional(),
  default_plan: z.string().optional(),
  models: z.array(z.string()).default(["*"]),
});

const BreakerSchema = z.object({
  window_seconds: positiveInt.default(30),
  min_requests: positiveInt.default(5),
  failure_ratio: z.number().gt(0).max(1).default(0.5),
  cooldown_seconds: positiveInt.default(30),
});

/** What a check does when Redis cannot be reached: allow locally (`open`) or refuse (`closed`). */
const FailurePolicySchema = z.object({
  rate_limits: z.enum(["open", "closed"]).default("open"),
  budgets: z.enum(["open", "closed"]).default("closed"),
  revocation: z.enum(["open", "closed"]).default("open"),
});

/**
 * Speculative admission: a request whose key and tenant had ample headroom in this isolate's last
 * limits reply (each remaining request, token, dollar and slot at least `headroom_factor` times
 * what it takes, seen less than `max_age_ms` ago) goes upstream while its limits round trip is in
 * flight; nothing reaches the client before the decision. `remember_refusals`: a key refused for
 * a limit with a reset time is refused from memory until then (at most a minute).
 */
const SpeculativeAdmissionSchema = z.object({
  enabled: z.boolean().default(true),
  headroom_factor: z.number().min(1).default(10),
  max_age_ms: positiveInt.max(60_000).default(1000),
  remember_refusals: z.boolean().default(true),
});

export const ConfigSchema = z
  .object({
    issuer: z.string().default("sluice"),
    audience: z.string().default("sluice"),
    max_body_bytes: positiveInt.default(4 * 1024 * 1024),
    /** Time a request body may take to arrive in full (a total, so a trickle cannot hold a request open). */
    body_timeout_ms: positiveInt.default(30_000),
    /** Largest JSON answer read from an upstream, and largest single stream event or line. */
    max_upstream_bytes: positiveInt.default(32 * 1024 * 1024),
    providers: z.record(z.string(), ProviderSchema).default({}),
    routes: z.record(z.string(), RouteSchema).default({}),
    plans: z.record(z.string(), LimitsSchema).default({
      free: { rpm: 60, tpm: 100_000, concurrency: 4, budget_usd_day: 1, budget_usd_month: 10 },
      pro: { rpm: 600, tpm: 2_000_000, concurrency: 32, budget_usd_day: 100, budget_usd_month: 1000 },
      enterprise: { rpm: 6000, tpm: 20_000_000, concurrency: 256 },
    }),
    default_plan: z.string().default("free"),
    /** Limits shared by all keys of a tenant (request and token rates, budgets), by tenant id. */
    tenant_limits: z
      .record(
        z.string(),
        LimitsSchema.pick({ rpm: true, tpm: true, budget_usd_day: true, budget_usd_month: true }),
      )
      .default({}),
    prices: z.array(PriceSchema).default([]),
    /** Billed prices apart from cost, per plan and tenant (src/config/billing.ts). */
    billing: BillingSchema.default(BillingSchema.parse({})),
    trusted_issuers: z.array(TrustedIssuerSchema).default([]),
    breaker: BreakerSchema.default(BreakerSchema.parse({})),
    failure_policy: FailurePolicySchema.default(FailurePolicySchema.parse({})),
    /** Dispatching upstream during the limits round trip when headroom is ample (src/limits/admission-memory.ts). */
    speculative_admission: SpeculativeAdmissionSchema.default(SpeculativeAdmissionSchema.parse({})),
    /** Stored Responses API answers (`store` not false): how long they stay readable. */
    responses: z
      .object({ retention_days: positiveInt.max(3650).default(30) })
      .default({ retention_days: 30 }),
    /** Live metrics, traces and alerts (see src/config/observability.ts). */
    metrics: MetricsSchema.default(MetricsSchema.parse({})),
    tracing: TracingSchema.default(TracingSchema.parse({})),
    alerts: AlertsSchema.default(AlertsSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    // Own names only: "toString" is no provider or plan, whatever Object.prototype says.
    for (const [name, route] of Object.entries(config.routes)) {
      route.targets.forEach((target, i) => {
        if (ownValue(config.providers, target.provider) === undefined) {
          ctx.addIssue({
            code: "custom",
            path: ["routes", name, "targets", i, "provider"],
            message: `unknown provider "${target.provider}"`,
          });
        }
      });
    }
    checkDowngrades(config.routes, ctx);
    if (ownValue(config.plans, config.default_plan) === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["default_plan"],
        message: `unknown plan "${config.default_plan}"`,
      });
    }
  });

export type Config = z.output<typeof ConfigSchema>;
export type ProviderConfig = Config["providers"][string];
export type RouteConfig = Config["routes"][string];
export type TargetConfig = RouteConfig["targets"][number];
export type Limits = z.output<typeof LimitsSchema>;
export type PriceConfig = z.output<typeof PriceSchema>;
export type TrustedIssuerConfig = z.output<typeof TrustedIssuerSchema>;
export type BreakerConfig = z.output<typeof BreakerSchema>;
export type FailurePolicy = z.output<typeof FailurePolicySchema>;
