import type { Log } from "../log";
import { WindowBatcher } from "../window-batcher";
import type { LuaScript } from "./lua";

/** One reservation's SETTLE_SCRIPT call. */
export interface Settlement {
  reservationId: string;
  keys: string[];
  args: (string | number)[];
}

/** How long the first settlement of a batch waits for company. */
const WINDOW_MS = 5;
/** Most scripts per pipeline request. */
const MAX_BATCH = 200;

/**
 * Settlements of the requests an isolate serves, batched: the SETTLE scripts queued within a few
 * milliseconds go out in the same tick, so they share ONE pipeline request (the admission keeps
 * its own round trip: it decides). A failed script is logged and left to the reservation's lease.
 * @example const settlements = createSettlements(settleScript, log); await settlements.add({ reservationId, keys, args })
 */
export function createSettlements(script: LuaScript, log: Log): WindowBatcher<Settlement> {
  return new WindowBatcher<Settlement>({
    windowMs: WINDOW_MS,
    maxItems: MAX_BATCH,
    async send(items) {
      const runs = items.map((item) => script.run(item.keys, item.args));
      const results = await Promise.allSettled(runs);
      results.forEach((result, i) => {
        if (result.status === "fulfilled") return;
        log("warn", "limits settlement failed", {
          reservation: items[i]?.reservationId,
          error: describeRedisError(result.reason),
        });
      });
    },
  });
}

/** An error's first line, short: Upstash errors echo the whole command (script text included). */
export function describeRedisError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const cut = text.indexOf(", command was:");
  return (cut === -1 ? text : text.slice(0, cut)).slice(0, 200);
}
