export type { CacheEntry } from "./entry";
export { CACHE_PREFIX, cacheKey, canonicalBody, purgePattern } from "./key";
export { type CachePlan, type CacheState, cacheStatus, planCache, withEntry } from "./lookup";
export { type CachePolicy, cachePolicy } from "./policy";
export { purgeEntries } from "./purge";
export { StreamRecorder } from "./recorder";
export { replayPayloads } from "./replay";
export { storeEntry } from "./store";
export { type CacheStores, type CacheWrite, createCacheStores } from "./stores";
