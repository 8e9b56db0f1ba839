export { ConfigError, type GatewayEnv, loadConfig } from "./load";
export { ownValue } from "./lookup";
export { DEFAULT_PRICES, type PriceInput } from "./prices";
export * from "./schema";
