/**
 * Observability beyond the metrics: OpenTelemetry traces of requests (OTLP/HTTP JSON) and signed
 * alert webhooks (budget thresholds, breaker transitions). The request middleware is
 * `./middleware` (imported by the app directly: it needs the app's context types).
 */

export { type BreakerPublisher, createBreakerPublisher } from "./breaker-alerts";
export { ALERT_RETRY_KEY, type DeliveryOptions, deliverAlerts } from "./deliver";
export { signatureHeader } from "./sign";
// createTracing is imported where tracing is configured (services.ts): the OpenTelemetry SDK then
// loads on first use, not in every isolate.
export type { RequestTrace, Tracing, TracingOptions } from "./tracing";
