import { type BatchCompanion, LuaScript, type ScriptRunner } from "../limits";
import type { Log } from "../log";
import { type LatencyTracker, latencyRedisKey } from "./latency";

/**
 * Stores each target's latency estimate (KEYS[i] = ARGV[i + 1]) for ARGV[1] ms: an estimate no
 * isolate refreshed for that long is forgotten, and the target is explored again.
 */
export const LATENCY_SCRIPT = `
for i = 1, #KEYS do
  redis.call("SET", KEYS[i], ARGV[i + 1], "PX", ARGV[1])
end
return #KEYS
`;

/** How long a published estimate lives without a newer one. */
const LATENCY_TTL_MS = 10 * 60_000;

/**
 * Publishes the isolate's new latency estimates with the settlement batches (a companion of the
 * gate's settlements): one script in the batch's pipeline, so sharing costs no round trip.
 * Nothing to send (no `fastest` traffic since the last batch) sends nothing. Never rejects.
 * @example createGate({ redis, config, companions: [metrics, createLatencyPublisher({ runner, tracker, log })] })
 */
export function createLatencyPublisher(opts: {
  runner: ScriptRunner;
  tracker: LatencyTracker;
  log: Log;
}): BatchCompanion {
  const script = new LuaScript(opts.runner, LATENCY_SCRIPT);
  return {
    sendPending() {
      const pending = opts.tracker.takePending();
      if (pending.length === 0) return null;
      const keys = pending.map((p) => latencyRedisKey(p.target));
      const args: (string | number)[] = [LATENCY_TTL_MS, ...pending.map((p) => p.value)];
      return script.run<unknown>(keys, args).then(
        () => {},
        (error: unknown) =>
          opts.log("warn", "latency estimates not shared", { error: String(error).slice(0, 200) }),
      );
    },
  };
}
