import type { Log } from "../log";

/** One entry to write: its key, its TTL and its encoded value. */
export interface CacheWrite {
  key: string;
  ttlSeconds: number;
  value: string;
}

/** The runner's SETEX (the gate's script runner: commands of one tick share one pipeline request). */
export interface SetexRunner {
  setex<T>(key: string, seconds: number, value: string): Promise<T>;
}

/**
 * Response-cache stores waiting for the next settlement batch. Each outbound request costs ~190 us
 * of CPU in workerd: a miss that stored its answer with a request of its own would cost that much
 * more than a route without cache. Queued entries instead ride the settlement scripts' pipeline
 * (a companion of createSettlements). Writes too big to ride return false: store them directly.
 * @example if (!stores.queue({ key, ttlSeconds, value })) await redis.set(key, value, { ex: ttlSeconds })
 */
export interface CacheStores {
  /** Queues a write for the next batch; false when it is too big to ride along (or the queue is full). */
  queue(write: CacheWrite): boolean;
  /** Issues the queued SETEXs in this tick, so they join the batch's pipeline; null when none. */
  sendPending(): Promise<void> | null;
}

/** Largest entry that rides a batch: bigger ones would swell the settlements' one request. */
const MAX_RIDING_BYTES = 64 * 1024;
/** Most bytes of entries queued at once (a batch's request stays well under Upstash's 1 MB). */
const MAX_QUEUED_BYTES = 512 * 1024;

/**
 * The isolate's queue of response-cache stores, sent with the settlement batches.
 * @example const stores = createCacheStores(runner, log); createGate({ ..., companions: [metrics, stores] })
 */
export function createCacheStores(runner: SetexRunner, log: Log): CacheStores {
  let queued: CacheWrite[] = [];
  let bytes = 0;
  return {
    queue(write) {
      if (write.value.length > MAX_RIDING_BYTES || bytes + write.value.length > MAX_QUEUED_BYTES)
        return false;
      queued.push(write);
      bytes += write.value.length;
      return true;
    },
    sendPending() {
      if (queued.length === 0) return null;
      const writes = queued;
      queued = [];
      bytes = 0;
      const sent = writes.map((w) => runner.setex(w.key, w.ttlSeconds, w.value));
      return Promise.allSettled(sent).then((results) => {
        const failed = results.filter((r) => r.status === "rejected").length;
        if (failed > 0) log("warn", "response cache stores failed", { failed });
      });
    },
  };
}
