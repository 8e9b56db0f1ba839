/** The response cache's table in RESULTS.md: a route without cache, a cached route's miss, a hit. */
import type { LoadResult } from "./load";
import { added, int, ms, table } from "./markdown";

/** One measured phase of the gateway, as the cache table reads it. */
export interface CachePhase {
  load: LoadResult;
  cpuUs: number;
  /** CPU us per request of each round: their spread is the noise a difference must exceed. */
  cpuUsRounds?: number[];
  /** Per request: what the gateway asked of Redis and Postgres. */
  backing?: { redisRequests: number; redisCommands: number };
}

/**
 * The section: the same JSON chat on a route without cache (the JSON c=N phase), on a cached
 * route with a body never sent before (every request a miss: lookup, assembly and store), and
 * answered from the cache (every request a hit); then whether a miss costs more than no cache,
 * judged against the spread of the rounds.
 * @example cacheSection({ noCache, miss, hit }, direct.jsonCN, 16)
 */
export function cacheSection(
  phases: { noCache: CachePhase; miss?: CachePhase; hit: CachePhase },
  direct: LoadResult | undefined,
  n: number,
): string {
  const row = (label: string, p: CachePhase) => [
    label,
    int(p.load.rps),
    int(p.cpuUs),
    ms(p.load.latency.p50),
    ms(p.load.latency.p99),
    direct ? added(p.load.latency.p50, direct.latency.p50) : "n/a",
    p.backing ? p.backing.redisRequests.toFixed(2) : "n/a",
  ];
  const rows = [row("no cache on the route", phases.noCache)];
  if (phases.miss) rows.push(row("cached route, miss (unique bodies)", phases.miss));
  rows.push(row("cached route, hit", phases.hit));
  const head = ["request", "req/s", "CPU us/req", "p50 ms", "p99 ms", "added p50 vs direct", "Redis req/req"];
  const verdict = phases.miss ? `\n\n${missVerdict(phases.noCache, phases.miss)}` : "";
  return `### Response cache (JSON chat, concurrency ${n})\n\n${table(head, rows)}${verdict}`;
}

/** Whether a miss costs more CPU than no cache at all, beyond what the rounds varied by. */
function missVerdict(noCache: CachePhase, miss: CachePhase): string {
  const spread = Math.max(range(noCache.cpuUsRounds), range(miss.cpuUsRounds));
  const diff = miss.cpuUs - noCache.cpuUs;
  const p50 = added(miss.load.latency.p50, noCache.load.latency.p50);
  const figures = `${diff >= 0 ? "+" : "-"}${int(Math.abs(diff))} us CPU and ${p50} ms p50 per request against the route without cache; the rounds varied by ${int(spread)} us`;
  if (!Number.isFinite(spread) || spread === 0)
    return `A cached-route miss: ${figures} (too few rounds to judge the noise).`;
  if (Math.abs(diff) <= spread)
    return `A cached-route miss costs no measurable CPU over no cache: ${figures}.`;
  return diff > 0
    ? `A cached-route miss costs MORE than no cache: ${figures} (the key's hashing, the GET in the gate's pipeline, and the store in waitUntil after the answer).`
    : `A cached-route miss measured cheaper than no cache: ${figures} (noise beyond the rounds' spread).`;
}

/** Max minus min of a phase's rounds; NaN without at least two. */
function range(rounds: number[] | undefined): number {
  if (!rounds || rounds.length < 2) return Number.NaN;
  return Math.max(...rounds) - Math.min(...rounds);
}
