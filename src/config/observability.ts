import * as z from "zod";

const positiveInt = z.number().int().positive();
/** Names of env bindings (secrets), never their values. */
const bindingName = z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, "a binding name like ALERTS_WEBHOOK_SECRET");
/** Budget shares in percent at which an alert is sent, each once per budget period. */
const thresholds = z
  .array(z.number().int().min(1).max(1000))
  .min(1)
  .max(10)
  .transform((list) => [...new Set(list)].sort((a, b) => a - b));

/** Live metrics in Redis, read by `GET /admin/metrics` (Prometheus) and the dashboard. */
export const MetricsSchema = z.object({
  enabled: z.boolean().default(true),
  /** Adds a `tenant` label to the request counter: one series per tenant (bounded by max_series). */
  tenant_label: z.boolean().default(false),
  /** Adds a `key` label (the key id) to the request counter: one series per key. */
  key_label: z.boolean().default(false),
  /** Most series stored; past it new series are dropped and counted in sluice_metrics_dropped_series_total. */
  max_series: positiveInt.max(100_000).default(5000),
  /** Counters idle this long expire (Prometheus reads the restart as a counter reset). */
  retention_days: positiveInt.max(400).default(35),
});

/** OpenTelemetry traces over OTLP/HTTP JSON, sent in batches after the answer. */
export const TracingSchema = z.object({
  /** The collector's traces URL, e.g. `http://otel-collector:4318/v1/traces`. Unset: no tracing. */
  otlp_endpoint: z.url().optional(),
  /** Binding holding a JSON object of extra headers for the collector (e.g. its auth). */
  headers_secret: bindingName.optional(),
  service_name: z.string().min(1).max(128).default("sluice"),
  /** Share of requests without a sampled caller trace that are traced (0-1). */
  sample_ratio: z.number().min(0).max(1).default(1),
});

const AlertTargetSchema = z.object({
  /** Where signed alerts are POSTed. */
  webhook_url: z.url(),
  /** Binding holding the HMAC-SHA256 signing secret. */
  secret_binding: bindingName.default("ALERTS_WEBHOOK_SECRET"),
  budget_thresholds: thresholds.optional(),
});

/** Signed webhooks: budget thresholds (per key and tenant budget) and breaker openings/closings. */
export const AlertsSchema = z.object({
  /** The global destination; unset, only tenants with their own get alerts. */
  webhook_url: z.url().optional(),
  secret_binding: bindingName.default("ALERTS_WEBHOOK_SECRET"),
  budget_thresholds: thresholds.default([50, 80, 100]),
  /** Alerts when a target's circuit breaker opens or closes (global destination). */
  breaker: z.boolean().default(true),
  /** Per tenant: its own destination, secret and thresholds for its keys' and its own budgets. */
  tenants: z.record(z.string(), AlertTargetSchema).default({}),
  /** Delivery attempts before an alert is given up (backoff doubles from 30 s, capped at 1 h). */
  max_attempts: positiveInt.max(20).default(8),
});

export type MetricsConfig = z.output<typeof MetricsSchema>;
export type TracingConfig = z.output<typeof TracingSchema>;
export type AlertsConfig = z.output<typeof AlertsSchema>;
