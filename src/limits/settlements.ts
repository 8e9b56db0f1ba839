import type { Log } from "../log";
import { WindowBatcher } from "../window-batcher";
import type { LuaScript } from "./lua";

/** One reservation's SETTLE_SCRIPT call. */
export interface Settlement {
  reservationId: string;
  keys: string[];
  args: (string | number)[];
}

/**
 * Work that rides along with each settlement batch (the isolate's pending metrics): `send` is
 * called in the batch's tick and must queue its commands before returning, so they share the
 * batch's one pipeline request. Null when it has nothing to send.
 */
export interface BatchCompanion {
  sendPending(): Promise<void> | null;
}

/**
 * An item of the batch: a settlement, or null for a request with nothing to settle (a refused
 * admission) whose companions' work (its metrics) must still go out with a batch.
 */
export type SettlementItem = Settlement | null;

/** How long the first settlement of a batch waits for company. */
const WINDOW_MS = 5;
/** Most scripts per pipeline request. */
const MAX_BATCH = 200;

/**
 * Settlements of the requests an isolate serves, batched: the SETTLE scripts queued within a few
 * milliseconds go out in the same tick, so they share ONE pipeline request with the companions'
 * commands (the admission keeps its own round trip: it decides). A failed script is logged and
 * left to the reservation's lease.
 * @example const settlements = createSettlements(settleScript, log, [metrics]); await settlements.add({ reservationId, keys, args })
 */
export function createSettlements(
  script: LuaScript,
  log: Log,
  companions: readonly BatchCompanion[] = [],
): WindowBatcher<SettlementItem> {
  return new WindowBatcher<SettlementItem>({
    windowMs: WINDOW_MS,
    maxItems: MAX_BATCH,
    async send(items) {
      const settlements = items.filter((item): item is Settlement => item !== null);
      const runs: Promise<unknown>[] = settlements.map((item) => script.run(item.keys, item.args));
      // Same tick as the scripts above: one pipeline request for all of it.
      const riders = companions.map((companion) => companion.sendPending());
      const results = await Promise.allSettled(runs);
      results.forEach((result, i) => {
        if (result.status === "fulfilled") return;
        log("warn", "limits settlement failed", {
          reservation: settlements[i]?.reservationId,
          error: describeRedisError(result.reason),
        });
      });
      await Promise.all(riders);
    },
  });
}

/** An error's first line, short: Upstash errors echo the whole command (script text included). */
export function describeRedisError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const cut = text.indexOf(", command was:");
  return (cut === -1 ? text : text.slice(0, cut)).slice(0, 200);
}
