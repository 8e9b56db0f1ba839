export { ConfigError, type GatewayEnv, loadConfig } from "./load";
export { ownValue } from "./lookup";
export type { AlertsConfig, MetricsConfig, TracingConfig } from "./observability";
export { planLimits } from "./plans";
export { DEFAULT_PRICES, type PriceInput } from "./prices";
export * from "./schema";
