import type { Config } from "../config";
import { ALERT_QUEUE_KEY, LuaScript, type ScriptRunner } from "../limits";
import type { Log } from "../log";
import { labelBody, SERIES_KEY } from "../metrics";
import { type BreakerTransition, breakerRedisKey } from "../routing";

/**
 * Shares a breaker transition and reports it once, however many isolates see the same outage:
 * the opening sets the shared "open until" key (read by every admission) and, only when the
 * target was not already open (a state marker set with NX), counts an opening and queues an
 * alert; a closing deletes both and queues its alert only if it removed the marker.
 *
 * KEYS: 1 shared breaker key, 2 state marker, 3 alert queue, 4 metrics series hash.
 * ARGV: 1 "open" or "close", 2 open until (ms), 3 now (ms), 4 the alert's JSON text up to its
 * closing brace ("" for no alert), 5 the openings counter's series field ("" for none),
 * 6 the series hash's TTL (ms), 7 the marker's TTL (ms).
 * Returns 1 when it queued an alert.
 */
export const BREAKER_SCRIPT = `
local queued = 0
local function alert(state)
  if ARGV[4] == "" then return end
  redis.call("RPUSH", KEYS[3], ARGV[4] .. string.format(',"state":"%s","open_until":%d,"at":%d}', state, tonumber(ARGV[2]), tonumber(ARGV[3])))
  redis.call("LTRIM", KEYS[3], -10000, -1)
  queued = 1
end
if ARGV[1] == "open" then
  redis.call("SET", KEYS[1], ARGV[2], "PXAT", ARGV[2])
  if redis.call("SET", KEYS[2], "open", "NX", "PX", ARGV[7]) then
    if ARGV[5] ~= "" then
      redis.call("HINCRBY", KEYS[4], ARGV[5], 1)
      redis.call("PEXPIRE", KEYS[4], ARGV[6])
    end
    alert("open")
  end
else
  redis.call("DEL", KEYS[1])
  if redis.call("DEL", KEYS[2]) == 1 then alert("closed") end
end
return queued
`;

/** How long an opening is remembered without a closing (then a later closing sends no alert). */
const MARKER_TTL_MS = 7 * 86_400_000;

/** Publishes breaker transitions (see BREAKER_SCRIPT); one script call per transition, in waitUntil. */
export type BreakerPublisher = (target: string, transition: NonNullable<BreakerTransition>) => Promise<void>;

/**
 * The breaker publisher of an isolate: shared state, the openings counter and the alert, in one
 * script. Never rejects: a failure is logged (the next transition publishes again).
 * @example const publish = createBreakerPublisher({ runner, config, now, log }); ctx.waitUntil(publish(target, transition))
 */
export function createBreakerPublisher(opts: {
  runner: ScriptRunner;
  config: Config;
  now: () => number;
  log: Log;
}): BreakerPublisher {
  const script = new LuaScript(opts.runner, BREAKER_SCRIPT);
  const { alerts, metrics } = opts.config;
  return async (target, transition) => {
    const opened = "opened" in transition;
    const alert =
      alerts.breaker && alerts.webhook_url ? JSON.stringify({ type: "breaker", target }).slice(0, -1) : "";
    const field = metrics.enabled ? `c|sluice_breaker_openings_total|${labelBody([["target", target]])}` : "";
    try {
      await script.run(
        [breakerRedisKey(target), `sluice:breaker-alerted:${target}`, ALERT_QUEUE_KEY, SERIES_KEY],
        [
          opened ? "open" : "close",
          opened ? transition.until : 0,
          opts.now(),
          alert,
          field,
          metrics.retention_days * 86_400_000,
          MARKER_TTL_MS,
        ],
      );
    } catch {
      opts.log("warn", "could not share breaker state", { target });
    }
  };
}
