/** Turns the measured figures into Markdown tables: printed to the terminal and kept in RESULTS.md. */
import { type CachePhase, cacheSection } from "./cache-report";
import type { LoadResult } from "./load";
import { added, int, ms, table } from "./markdown";

/** A short and a long streaming answer at concurrency N: what each cost, and how many SSE events each carried. */
export interface StreamPair {
  short: LoadResult;
  cpuUsShort: number;
  shortEvents: number;
  long: LoadResult;
  cpuUsLong: number;
  longEvents: number;
}

/** Everything measured for one thing served (the mock itself, the floor worker, the gateway). */
export interface TargetFigures {
  label: string;
  /** `direct` is the upstream the others are compared with. */
  kind: "direct" | "passthrough" | "gateway" | "peer";
  jsonC1: LoadResult;
  jsonCN: LoadResult;
  streamC1: LoadResult;
  streamCN: LoadResult;
  /** CPU time of the serving process per request, in microseconds, at concurrency N. */
  cpuUsJson: number;
  /** cpuUsJson of each round: their spread shows how steady the machine was. */
  cpuUsJsonRounds: number[];
  cpuUsStream: number;
  /** A streaming answer of many chunks (LONG_STREAM_WORDS words, one per chunk) at concurrency N. */
  longStreamCN: LoadResult;
  cpuUsLongStream: number;
  /** SSE events in the short and the long streaming answer. */
  streamEvents: number;
  longStreamEvents: number;
  /** Direct, passthrough and gateway: native Anthropic Messages streams (the gateway relays them in the runtime). */
  messages?: StreamPair;
  /** Gateway only: the chat streams through a `stream_passthrough` route (forwarded by the runtime). */
  openaiPassthrough?: StreamPair;
  peakRssMb: number;
  /** GET /healthz at concurrency N: the runtime + router cost without any outbound request. */
  healthz?: { load: LoadResult; cpuUs: number };
  /** Gateway only: the JSON chat answered from the response cache (every request a hit), concurrency N. */
  cached?: CachePhase;
  /** Gateway only: the JSON chat on the cached route, every body new (every request a miss), concurrency N. */
  cachedMiss?: CachePhase;
  /** Per JSON request at concurrency N: what the gateway asked of its backing services. */
  backing?: { redisRequests: number; redisCommands: number; neonRequests: number; cpuUs: number };
}

/** Where and how the figures were taken. */
export interface RunInfo {
  date: string;
  machine: string;
  node: string;
  workerd: string;
  wrangler: string;
  postgres: string;
  secondsPerPhase: number;
  rounds: number;
  concurrency: number;
  /** 1-minute load average when the run began (others' work on the machine). */
  loadAverageBefore: number;
  /** A Server-Timing header the gateway sent after warm-up. */
  serverTiming?: string;
}

/** The issue's targets and the reference figures it quotes (measured on this machine's kind). */
const REFERENCE = {
  targetCpuUs: 400,
  targetAddedP50Ms: 1.0,
  targetAddedTtfbMs: 1.0,
  portkey: { cpu: "1,234 us", rps: "735-863", p50: "+1.06 ms", ttfb: "+27.7 ms" },
  bareHono: { cpu: "160-175 us", rps: "~6,000", p50: "+0.4 ms", ttfb: "n/a" },
};

function failures(figures: TargetFigures): string {
  const all = [
    figures.jsonC1,
    figures.jsonCN,
    figures.streamC1,
    figures.streamCN,
    figures.longStreamCN,
    figures.messages?.short,
    figures.messages?.long,
    figures.healthz?.load,
    figures.cached?.load,
    figures.cachedMiss?.load,
  ];
  const counts: Record<string, number> = {};
  for (const load of all) {
    for (const [kind, n] of Object.entries(load?.failures ?? {})) counts[kind] = (counts[kind] ?? 0) + n;
  }
  const parts = Object.entries(counts).map(([kind, n]) => `${n} x ${kind}`);
  return parts.length === 0 ? "0" : parts.join(", ");
}

function verdict(ok: boolean): string {
  return ok ? "yes" : "NO";
}

/** The comparison with the issue's targets and reference figures. */
function targetsTable(gateway: TargetFigures, floor: TargetFigures, direct: TargetFigures): string {
  const addedP50 = gateway.jsonC1.latency.p50 - direct.jsonC1.latency.p50;
  const addedTtfb = gateway.streamC1.ttfb.p50 - direct.streamC1.ttfb.p50;
  const rows = [
    [
      "CPU per request (JSON)",
      `<= ${REFERENCE.targetCpuUs} us`,
      `${int(gateway.cpuUsJson)} us`,
      verdict(gateway.cpuUsJson <= REFERENCE.targetCpuUs),
      `${int(floor.cpuUsJson)} us`,
      REFERENCE.bareHono.cpu,
      REFERENCE.portkey.cpu,
    ],
    [
      "req/s on one core (1e6 / CPU us)",
      `>= ${int(1e6 / REFERENCE.targetCpuUs)}`,
      int(1e6 / gateway.cpuUsJson),
      verdict(gateway.cpuUsJson <= REFERENCE.targetCpuUs),
      int(1e6 / floor.cpuUsJson),
      REFERENCE.bareHono.rps,
      REFERENCE.portkey.rps,
    ],
    [
      "added p50, concurrency 1",
      `+${REFERENCE.targetAddedP50Ms.toFixed(1)} ms`,
      `${added(gateway.jsonC1.latency.p50, direct.jsonC1.latency.p50)} ms`,
      verdict(addedP50 <= REFERENCE.targetAddedP50Ms),
      `${added(floor.jsonC1.latency.p50, direct.jsonC1.latency.p50)} ms`,
      REFERENCE.bareHono.p50,
      REFERENCE.portkey.p50,
    ],
    [
      "added stream time to first byte (p50, c=1)",
      `+${REFERENCE.targetAddedTtfbMs.toFixed(1)} ms`,
      `${added(gateway.streamC1.ttfb.p50, direct.streamC1.ttfb.p50)} ms`,
      verdict(addedTtfb <= REFERENCE.targetAddedTtfbMs),
      `${added(floor.streamC1.ttfb.p50, direct.streamC1.ttfb.p50)} ms`,
      REFERENCE.bareHono.ttfb,
      REFERENCE.portkey.ttfb,
    ],
  ];
  return table(
    [
      "measure",
      "target",
      "sluice",
      "met",
      "passthrough (this run)",
      "bare Hono (issue)",
      "Portkey 1.15.2 (issue)",
    ],
    rows,
  );
}

/** The OpenAI chat streams of a target as a pair. */
function chatPair(f: TargetFigures): StreamPair {
  return {
    short: f.streamCN,
    cpuUsShort: f.cpuUsStream,
    shortEvents: f.streamEvents,
    long: f.longStreamCN,
    cpuUsLong: f.cpuUsLongStream,
    longEvents: f.longStreamEvents,
  };
}

/** (long CPU - short CPU) / extra events: what relaying one chunk costs. */
function perExtraEvent(p: StreamPair): number {
  return p.longEvents > p.shortEvents
    ? (p.cpuUsLong - p.cpuUsShort) / (p.longEvents - p.shortEvents)
    : Number.NaN;
}

/** Gateway's per-chunk cost over the bare passthrough's: relaying a chunk should cost about what the runtime's pipe does. */
const MAX_EXTRA_EVENT_RATIO = 1.5;

/**
 * A "cost of streaming" table, with a line under it saying whether the gateway relays each extra
 * event at no more than MAX_EXTRA_EVENT_RATIO times the passthrough's CPU.
 */
function streamingSection(title: string, rows: { figures: TargetFigures; pair: StreamPair }[]): string {
  const body = table(
    [
      "served by",
      "short: events",
      "req/s",
      "CPU us/req",
      "long: events",
      "req/s",
      "CPU us/req",
      "CPU us per extra event",
    ],
    rows.map(({ figures, pair }) => [
      figures.label,
      String(pair.shortEvents),
      int(pair.short.rps),
      int(pair.cpuUsShort),
      String(pair.longEvents),
      int(pair.long.rps),
      int(pair.cpuUsLong),
      perExtraEvent(pair).toFixed(1),
    ]),
  );
  const floor = rows.find((r) => r.figures.kind === "passthrough");
  const gateways = rows.filter((r) => r.figures.kind === "gateway");
  if (!floor || gateways.length === 0) return `### ${title}\n\n${body}`;
  const floorPerEvent = perExtraEvent(floor.pair);
  const checks = gateways.map((gateway) => {
    const ratio = perExtraEvent(gateway.pair) / floorPerEvent;
    return `${gateway.figures.label} CPU per extra event within ${MAX_EXTRA_EVENT_RATIO}x the passthrough's: ${verdict(
      floorPerEvent > 0 && ratio <= MAX_EXTRA_EVENT_RATIO,
    )} (${ratio.toFixed(2)} x)`;
  });
  return `### ${title}\n\n${body}\n\n${checks.join("\n\n")}`;
}

/** The gateway's stream_passthrough route as a row of its own, beside the gateway's default. */
export function passthroughRow(
  gateway: TargetFigures,
  pair: StreamPair,
): { figures: TargetFigures; pair: StreamPair } {
  return { figures: { ...gateway, label: `${gateway.label}, stream_passthrough route` }, pair };
}

/** The passthrough worker that first makes one round trip to the Upstash bridge (bench/passthrough.ts). */
export const LIMITS_FLOOR_LABEL = "passthrough + one Redis round trip";

/** Most CPU per JSON request the issue allows the gateway, in multiples of the bare passthrough's. */
const MAX_JSON_CPU_RATIO = 2.5;

/**
 * Each gateway's CPU per JSON request over the bare passthrough's (the issue's target), and over
 * the passthrough that makes one limits round trip first: what no Redis-backed gateway can go below.
 */
export function jsonCpuRatios(all: Pick<TargetFigures, "label" | "kind" | "cpuUsJson">[]): string | null {
  const bare = all.find((f) => f.kind === "passthrough" && f.label !== LIMITS_FLOOR_LABEL);
  const limitsFloor = all.find((f) => f.label === LIMITS_FLOOR_LABEL);
  if (!bare) return null;
  const lines = all
    .filter((f) => f.kind === "gateway")
    .map((f) => {
      const ratio = f.cpuUsJson / bare.cpuUsJson;
      const overFloor = limitsFloor
        ? `; ${(f.cpuUsJson / limitsFloor.cpuUsJson).toFixed(2)}x the ${LIMITS_FLOOR_LABEL}'s, itself ${(
            limitsFloor.cpuUsJson / bare.cpuUsJson
          ).toFixed(2)}x the passthrough's`
        : "";
      return `- ${f.label} CPU per JSON request within ${MAX_JSON_CPU_RATIO}x the passthrough's: ${verdict(
        ratio <= MAX_JSON_CPU_RATIO,
      )} (${ratio.toFixed(2)}x${overFloor})`;
    });
  return lines.length > 0 ? lines.join("\n") : null;
}

/** All tables of one run, as Markdown. */
export function renderTables(run: RunInfo, all: TargetFigures[], extra: string[] = []): string {
  const n = run.concurrency;
  const direct = all.find((f) => f.kind === "direct");
  const floor = all.find((f) => f.kind === "passthrough");
  const gateway = all.find((f) => f.kind === "gateway");
  const sections: string[] = [];

  if (direct && floor && gateway) {
    sections.push(`### Against the targets (issue 3)\n\n${targetsTable(gateway, floor, direct)}`);
  }

  sections.push(
    `### Throughput and cost, JSON chat (concurrency ${n})\n\n${table(
      [
        "served by",
        "req/s",
        "CPU us/req",
        "rounds min-max",
        "req/s per core",
        "peak RSS MB",
        "failures (all phases)",
      ],
      all.map((f) => [
        f.label,
        int(f.jsonCN.rps),
        int(f.cpuUsJson),
        `${int(Math.min(...f.cpuUsJsonRounds))}-${int(Math.max(...f.cpuUsJsonRounds))}`,
        int(1e6 / f.cpuUsJson),
        f.peakRssMb.toFixed(0),
        failures(f),
      ]),
    )}`,
  );
  const jsonRatios = jsonCpuRatios(all);
  if (jsonRatios) sections.push(jsonRatios);
  sections.push(
    streamingSection(
      `Cost of streaming (concurrency ${n}; events = SSE data lines per answer)`,
      all.flatMap((f) => [
        { figures: f, pair: chatPair(f) },
        ...(f.openaiPassthrough ? [passthroughRow(f, f.openaiPassthrough)] : []),
      ]),
    ),
  );
  const withMessages = all.flatMap((f) => (f.messages ? [{ figures: f, pair: f.messages }] : []));
  if (withMessages.length > 0) {
    sections.push(
      streamingSection(
        `Cost of streaming, Anthropic Messages forwarded natively (concurrency ${n})`,
        withMessages,
      ),
    );
  }

  if (direct) {
    const base = direct;
    sections.push(
      `### Latency, JSON chat (ms; added = minus the direct upstream)\n\n${table(
        [
          "served by",
          "p50 c=1",
          "p99 c=1",
          `p50 c=${n}`,
          `p99 c=${n}`,
          "added p50 c=1",
          "added p99 c=1",
          `added p50 c=${n}`,
          `added p99 c=${n}`,
        ],
        all.map((f) => [
          f.label,
          ms(f.jsonC1.latency.p50),
          ms(f.jsonC1.latency.p99),
          ms(f.jsonCN.latency.p50),
          ms(f.jsonCN.latency.p99),
          f === base ? "" : added(f.jsonC1.latency.p50, base.jsonC1.latency.p50),
          f === base ? "" : added(f.jsonC1.latency.p99, base.jsonC1.latency.p99),
          f === base ? "" : added(f.jsonCN.latency.p50, base.jsonCN.latency.p50),
          f === base ? "" : added(f.jsonCN.latency.p99, base.jsonCN.latency.p99),
        ]),
      )}`,
    );
    sections.push(
      `### Streaming chat, concurrency 1 (ms; TTFB = first body byte)\n\n${table(
        [
          "served by",
          "TTFB p50",
          "TTFB p99",
          "added TTFB p50",
          "added TTFB p99",
          "whole stream p50",
          `TTFB p50 c=${n}`,
          `TTFB p99 c=${n}`,
        ],
        all.map((f) => [
          f.label,
          ms(f.streamC1.ttfb.p50),
          ms(f.streamC1.ttfb.p99),
          f === base ? "" : added(f.streamC1.ttfb.p50, base.streamC1.ttfb.p50),
          f === base ? "" : added(f.streamC1.ttfb.p99, base.streamC1.ttfb.p99),
          ms(f.streamC1.latency.p50),
          ms(f.streamCN.ttfb.p50),
          ms(f.streamCN.ttfb.p99),
        ]),
      )}`,
    );
  }

  const withHealthz = all.filter((f) => f.healthz);
  if (withHealthz.length > 0) {
    sections.push(
      `### GET /healthz, concurrency ${n} (no outbound request: runtime + router only)\n\n${table(
        ["served by", "req/s", "CPU us/req", "p50 ms", "p99 ms"],
        withHealthz.map((f) => {
          const h = f.healthz as NonNullable<TargetFigures["healthz"]>;
          return [f.label, int(h.load.rps), int(h.cpuUs), ms(h.load.latency.p50), ms(h.load.latency.p99)];
        }),
      )}`,
    );
  }

  if (gateway?.backing) {
    const b = gateway.backing;
    const lines = [
      `- Upstash REST requests per chat request: ${b.redisRequests.toFixed(2)} (${b.redisCommands.toFixed(2)} Redis commands)`,
      `- Neon /sql requests per chat request: ${b.neonRequests.toFixed(3)} (usage rows are meant to go in batches)`,
      `- CPU of the local Redis bridge + redis-server + Postgres per chat request: ${int(b.cpuUs)} us (not the gateway's; in production this is Upstash's and Neon's)`,
    ];
    if (run.serverTiming) lines.push(`- A Server-Timing header from the gateway: \`${run.serverTiming}\``);
    sections.push(
      `### What the gateway asked of its backing services (JSON, concurrency ${n})\n\n${lines.join("\n")}`,
    );
  }
  if (gateway?.cached) {
    const noCache = {
      load: gateway.jsonCN,
      cpuUs: gateway.cpuUsJson,
      cpuUsRounds: gateway.cpuUsJsonRounds,
      backing: gateway.backing,
    };
    sections.push(
      cacheSection({ noCache, miss: gateway.cachedMiss, hit: gateway.cached }, direct?.jsonCN, n),
    );
  }
  // Sections of the optional modes (latency, peers, heap), rendered by their own modules.
  sections.push(...extra);
  return sections.join("\n\n");
}

/** The whole RESULTS.md: the run's context, then the tables. */
export function renderResults(run: RunInfo, all: TargetFigures[], extra: string[] = []): string {
  return `# Benchmark results (latest run)

Written by \`npm run bench\`, overwritten by every run: see [README.md](README.md) for what is
measured and how to read it. Only compare figures taken in the same run on the same machine.

- Date: ${run.date}
- Machine: ${run.machine}
- Node ${run.node}, ${run.workerd}, wrangler ${run.wrangler}, Postgres behind Neon /sql: ${run.postgres}
- ${run.secondsPerPhase} s per measured phase and target, in ${run.rounds} rounds taking turns; concurrency 1
  and ${run.concurrency}; load generator, mock upstream, Redis and Postgres all on the same machine (127.0.0.1)
- 1-minute load average before the run: ${run.loadAverageBefore.toFixed(2)} (others' work; high = noisy figures)

Targets (issue 3), with auth, limits and metering all on: <= 400 us CPU per request (>= 2,500
req/s on one core), +1.0 ms p50 at concurrency 1, +1 ms stream time to first byte. Reference
figures quoted by the issue for this machine's kind: Portkey's open-source gateway 1.15.2 (Node)
1,234 us CPU per request, 735-863 req/s on one core, +1.06 ms p50 at concurrency 1, +27.7 ms
stream time to first byte; a bare Hono passthrough in workerd 160-175 us, about 6,000 req/s,
+0.4 ms p50.

${renderTables(run, all, extra)}
`;
}
