/**
 * The latency mode (`--upstream-ttfb-ms N --redis-rtt-ms N`): loopback hides what the edge pays, so
 * the mock holds each answer's first byte back by N ms (a provider's time to first token) and the
 * Upstash bridge delays each request by N ms (the round trip to a distant primary region). Then
 * a streaming phase per target measures time to first byte, and "added" is each target's minus
 * the direct upstream's. The gateway runs twice: with a key far from its limits (the limits round
 * trip may hide behind the upstream's, speculative admission) and with a key near them (it must
 * pay the round trip before dispatching).
 */
import type { HttpCall, LoadResult, LoadRun } from "./load";
import { runLoad, summarize } from "./load";
import { added, int, ms, table } from "./markdown";

export interface LatencyOptions {
  upstreamTtfbMs: number;
  redisRttMs: number;
}

/** Chat route and provider of the gateway whose upstream answers after `upstreamTtfbMs`. */
export const DISTANT_ROUTE = "gpt-4o-mini-distant";

/** Plan of the near-limit key: see NEAR_LIMIT_MAX_TOKENS. */
export const NEAR_LIMIT_PLAN = "bench-near-limit";

/**
 * The near-limit key asks for this many output tokens, so each request reserves more than
 * NEAR_LIMIT_TPM / 10 tokens: its remaining tokens are never ten times a reservation (no
 * speculation), yet LATENCY_CONCURRENCY requests in flight always fit (no refusal); what they
 * really use (a few dozen tokens each) barely moves the minute's total.
 */
export const NEAR_LIMIT_MAX_TOKENS = 10_000;
const NEAR_LIMIT_TPM = 9 * NEAR_LIMIT_MAX_TOKENS;

/** Requests in flight per target in the latency phase (the near-limit key's budget allows 8). */
export const LATENCY_CONCURRENCY = 4;

/**
 * Adds the distant route (its provider sends the mock's `x-mock-ttfb-ms`) and the near-limit plan
 * to the bench config.
 */
export function withLatencyConfig(
  config: Record<string, unknown>,
  mockUrl: string,
  upstreamTtfbMs: number,
): Record<string, unknown> {
  const base = config as {
    providers: Record<string, unknown>;
    routes: Record<string, unknown>;
    plans: Record<string, Record<string, number>>;
  };
  const benchPlan = base.plans.bench ?? {};
  return {
    ...config,
    providers: {
      ...base.providers,
      "mock-openai-distant": {
        kind: "openai",
        base_url: `${mockUrl}/v1`,
        api_key_secret: "MOCK_API_KEY",
        headers: { "x-mock-ttfb-ms": String(upstreamTtfbMs) },
      },
    },
    routes: {
      ...base.routes,
      [DISTANT_ROUTE]: { targets: [{ provider: "mock-openai-distant", model: "gpt-4o-mini" }] },
    },
    plans: { ...base.plans, [NEAR_LIMIT_PLAN]: { ...benchPlan, tpm: NEAR_LIMIT_TPM } },
  };
}

/** The streaming call of the latency phase: the gateway's through the distant route, the others with the header. */
export function latencyCall(
  stream: HttpCall,
  opts: { viaGateway: boolean; upstreamTtfbMs: number; maxTokens?: number },
): HttpCall {
  const body = JSON.parse(stream.body ?? "{}") as Record<string, unknown>;
  if (opts.viaGateway) body.model = DISTANT_ROUTE;
  if (opts.maxTokens !== undefined) body.max_tokens = opts.maxTokens;
  const headers = opts.viaGateway
    ? stream.headers
    : { ...stream.headers, "x-mock-ttfb-ms": String(opts.upstreamTtfbMs) };
  return { ...stream, headers, body: JSON.stringify(body) };
}

/** One row of the latency table. */
export interface LatencyRow {
  label: string;
  load: LoadResult;
  /** The direct upstream: the others' "added" is measured against it. */
  direct?: boolean;
  /** A gateway row: compared with the passthrough's added TTFB. */
  gateway?: boolean;
  passthrough?: boolean;
}

export interface LatencyTarget {
  label: string;
  url: string;
  call: HttpCall;
  direct?: boolean;
  gateway?: boolean;
  passthrough?: boolean;
}

/**
 * Sets the bridge's delay, loads every target in turn (rounds, rotating), then sets it back to 0.
 * The delay goes through the bridge's own authenticated `/__bridge/delay`.
 */
export async function measureLatency(
  targets: LatencyTarget[],
  bridge: { url: string; token: string },
  opts: LatencyOptions & { seconds: number; rounds: number },
): Promise<LatencyRow[]> {
  await setBridgeDelay(bridge, opts.redisRttMs);
  const runs = new Map<LatencyTarget, LoadRun[]>();
  try {
    // Each request takes upstreamTtfbMs at least: give every target enough of them for a p99.
    const ms = Math.max(2_000, (opts.seconds * 2_000) / opts.rounds);
    for (const target of targets) await runLoad(target.url, target.call, { concurrency: 2, durationMs: 800 });
    for (let round = 0; round < opts.rounds; round++) {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(i + round) % targets.length] as LatencyTarget;
        // Spread over one upstream wait: with a fixed first-byte delay, loops started together
        // would reach the target together on every request, so the row would measure how four
        // requests queue on one isolate rather than whether the round trip hides.
        const run = await runLoad(target.url, target.call, {
          concurrency: LATENCY_CONCURRENCY,
          durationMs: ms,
          staggerMs: opts.upstreamTtfbMs / LATENCY_CONCURRENCY,
        });
        runs.set(target, [...(runs.get(target) ?? []), run]);
      }
    }
  } finally {
    await setBridgeDelay(bridge, 0);
  }
  return targets.map((t) => ({
    label: t.label,
    load: summarize(runs.get(t) ?? []),
    direct: t.direct,
    gateway: t.gateway,
    passthrough: t.passthrough,
  }));
}

async function setBridgeDelay(bridge: { url: string; token: string }, ms: number): Promise<void> {
  const res = await fetch(`${bridge.url}/__bridge/delay`, {
    method: "POST",
    headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json" },
    body: JSON.stringify({ ms }),
  });
  if (!res.ok) throw new Error(`bench: the Redis bridge refused a ${ms} ms delay: ${await res.text()}`);
}

/** The latency table, with the two checks under it. */
export function renderLatency(rows: LatencyRow[], opts: LatencyOptions): string {
  const direct = rows.find((r) => r.direct);
  const floor = rows.find((r) => r.passthrough);
  const base = (r: LatencyRow, q: "p50" | "p99") =>
    direct ? r.load.ttfb[q] - direct.load.ttfb[q] : Number.NaN;
  const failed = (r: LatencyRow) =>
    r.load.failed === 0 ? "0" : `${r.load.failed} (first: ${r.load.firstFailure?.slice(0, 80)})`;
  const body = table(
    [
      "served by",
      "requests",
      "TTFB p50",
      "TTFB p99",
      "added p50",
      "added p99",
      "added p50 - passthrough's",
      "failures",
    ],
    rows.map((r) => [
      r.label,
      int(r.load.ok),
      ms(r.load.ttfb.p50),
      ms(r.load.ttfb.p99),
      r.direct ? "" : ms(base(r, "p50")),
      r.direct ? "" : ms(base(r, "p99")),
      r.gateway && floor ? added(base(r, "p50"), base(floor, "p50")) : "",
      failed(r),
    ]),
  );
  const checks: string[] = [];
  const [ample, near] = rows.filter((r) => r.gateway);
  if (floor && ample) {
    const gap = base(ample, "p50") - base(floor, "p50");
    checks.push(
      `- ${ample.label}: added TTFB p50 within 2 ms of the passthrough's (the round trip hidden behind the upstream's): ${gap <= 2 ? "yes" : "NO"} (${added(base(ample, "p50"), base(floor, "p50"))} ms)`,
    );
  }
  if (floor && near) {
    const gap = base(near, "p50") - base(floor, "p50");
    checks.push(
      `- ${near.label}: pays the round trip (added p50 at least ${opts.redisRttMs} ms over the passthrough's): ${gap >= opts.redisRttMs * 0.9 ? "yes" : "NO"} (${added(base(near, "p50"), base(floor, "p50"))} ms)`,
    );
  }
  return `### Latency mode: upstream first byte +${opts.upstreamTtfbMs} ms, Redis round trip +${opts.redisRttMs} ms (stream, concurrency ${LATENCY_CONCURRENCY}; ms)

The mock holds each answer's first byte back by ${opts.upstreamTtfbMs} ms and the Upstash bridge delays each request by ${opts.redisRttMs} ms, as a distant provider and a distant Redis primary would. Added = minus the direct upstream (which pays the ${opts.upstreamTtfbMs} ms too).

${body}

${checks.join("\n")}`;
}
