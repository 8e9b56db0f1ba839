/**
 * `npm run bench [-- --seconds 3 --concurrency 16 --no-write]`
 *
 * Builds the gateway and a bare passthrough worker like a deploy would, serves each with the
 * `workerd` binary in front of the same mock upstream, and measures side by side: the upstream
 * alone, the passthrough (the floor) and the gateway with auth, limits and metering on.
 * Prints tables and overwrites bench/RESULTS.md. Every process it starts is stopped on exit.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../local/net";
import { type Bundle, buildGateway, buildPassthrough } from "./build";
import { type Child, onExit } from "./children";
import { measureColdStart, renderColdStart } from "./cold-start";
import { heapWhile, renderHeap, renderMemory } from "./heap";
import {
  type LatencyTarget,
  latencyCall,
  measureLatency,
  NEAR_LIMIT_MAX_TOKENS,
  renderLatency,
} from "./latency";
import {
  DONE_MARKER,
  type HttpCall,
  type LoadResult,
  type LoadRun,
  requestCount,
  runLoad,
  type Sample,
  sendOnce,
  summarize,
} from "./load";
import { PEERS, type Peer, type PeerName, portkeyCall, renderPeers, startPortkey } from "./peers";
import { describeMachine, treeCpuSeconds, treePeakRssMb } from "./proc";
import { connectInspector, moduleLocator, profileWhile, renderProfile } from "./profile";
import { LIMITS_FLOOR_LABEL, type RunInfo, renderResults, renderTables, type TargetFigures } from "./report";
import { type ChatCalls, chatCalls, countEvents } from "./scenarios";
import { startService } from "./service-child";
import type { StackReady } from "./services";
import { serveBundle, V8_FLAGS, type Workerd, workerdBinary } from "./workerd";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Options {
  /** Measured seconds per phase and target, split over the rounds. */
  seconds: number;
  rounds: number;
  concurrency: number;
  write: boolean;
  /** Also take CPU profiles of the gateway (on a separate workerd, after the measured phases). */
  profile: boolean;
  /** Latency mode (bench/latency.ts): the mock's first-byte delay and the Redis bridge's, in ms. */
  latency: { upstreamTtfbMs: number; redisRttMs: number } | undefined;
  /** Other gateways measured beside sluice (bench/peers.ts). */
  peers: PeerName[];
  /** Heap snapshots and allocation sampling over this many gateway requests (0: off). */
  heapRequests: number;
  /** A git ref whose gateway is measured beside this tree's, in the same rounds (`--compare`). */
  compare: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    seconds: Number(process.env.BENCH_SECONDS ?? 3),
    rounds: 3,
    concurrency: 16,
    write: true,
    profile: false,
    latency: { upstreamTtfbMs: 300, redisRttMs: 20 },
    peers: [],
    heapRequests: 0,
    compare: undefined,
  };
  const latency = options.latency as NonNullable<Options["latency"]>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--seconds") options.seconds = Number(argv[++i]);
    else if (arg === "--rounds") options.rounds = Number(argv[++i]);
    else if (arg === "--concurrency") options.concurrency = Number(argv[++i]);
    else if (arg === "--no-write") options.write = false;
    else if (arg === "--profile") options.profile = true;
    else if (arg === "--upstream-ttfb-ms") latency.upstreamTtfbMs = wholeMs(arg, argv[++i]);
    else if (arg === "--redis-rtt-ms") latency.redisRttMs = wholeMs(arg, argv[++i]);
    else if (arg === "--no-latency") options.latency = undefined;
    else if (arg === "--peers") options.peers = parsePeers(argv[++i]);
    else if (arg === "--heap") options.heapRequests = 2_000;
    else if (arg === "--heap-requests") options.heapRequests = wholeMs(arg, argv[++i]);
    else if (arg === "--compare") {
      options.compare = gitRef(argv[++i]);
      // RESULTS.md describes one tree.
      options.write = false;
    } else
      throw new Error(
        `bench: unknown argument ${arg} (use --seconds N, --rounds N, --concurrency N, --no-write, --profile, --upstream-ttfb-ms N, --redis-rtt-ms N, --no-latency, --peers portkey, --heap, --heap-requests N, --compare REF)`,
      );
  }
  if (!(options.seconds > 0 && options.seconds <= 60)) throw new Error("bench: --seconds must be in (0, 60]");
  if (!(Number.isInteger(options.rounds) && options.rounds >= 1 && options.rounds <= 20)) {
    throw new Error("bench: --rounds must be an integer in [1, 20]");
  }
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1 && options.concurrency <= 256)) {
    throw new Error("bench: --concurrency must be an integer in [1, 256]");
  }
  return options;
}

/** A whole number in [0, 60000] (milliseconds, or a request count). */
function wholeMs(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 60_000)
    throw new Error(`bench: ${flag} takes a whole number in [0, 60000]`);
  return n;
}

/** A ref to check out for `--compare`: never an option in disguise. */
function gitRef(value: string | undefined): string {
  if (!value || !/^[\w./~^@{}-]+$/.test(value) || value.startsWith("-"))
    throw new Error("bench: --compare takes a git ref (a commit, branch or tag)");
  return value;
}

function parsePeers(value: string | undefined): PeerName[] {
  const names = (value ?? "").split(",").filter((name) => name !== "");
  for (const name of names) {
    if (!(PEERS as readonly string[]).includes(name))
      throw new Error(`bench: --peers knows ${PEERS.join(", ")}, not "${name}"`);
  }
  return names as PeerName[];
}

const log = (message: string) => console.log(`bench: ${message}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HEALTHZ: HttpCall = { method: "GET", path: "/healthz", headers: {} };

/** What is being measured: where to send requests and which process does the serving. */
interface Target {
  label: string;
  kind: TargetFigures["kind"];
  url: string;
  pid: number;
  calls: ChatCalls;
  /** SSE events per stream answer, as the probe saw them (0: the target has no such call). */
  events: StreamEvents;
  healthz: boolean;
  /** Gateway only: the backing services to count and time. */
  stack?: { pid: number; ready: StackReady };
}

/** The stream calls whose SSE events the probe counts. */
const STREAM_CALLS = [
  "stream",
  "longStream",
  "messagesStream",
  "messagesLongStream",
  "passthroughStream",
  "passthroughLongStream",
] as const;
type StreamEvents = Record<(typeof STREAM_CALLS)[number], number>;

const noEvents = (): StreamEvents =>
  Object.fromEntries(STREAM_CALLS.map((name) => [name, 0])) as StreamEvents;

/** What the probe saw: the JSON answer, and how many SSE events each stream carried. */
interface Probe {
  json: Sample;
  events: StreamEvents;
}

/** Fails loudly, body included, unless the target answers every call it has correctly. */
async function probe(target: Target, workerdOutput?: () => string): Promise<Probe> {
  const checked = async (call: HttpCall): Promise<Sample> => {
    const sample = await sendOnce(target.url, call);
    if (sample.ok) return sample;
    const what = call.stream ? `a streaming ${call.path}` : "a JSON chat";
    const logs = workerdOutput?.().trim();
    throw new Error(
      `bench: ${target.label} answered ${what} request with HTTP ${sample.status}${
        sample.status === 200 ? ` but no final ${call.finalEvent ?? DONE_MARKER}` : ""
      } during warm-up.\nRequest: ${call.body}\nBody:\n${sample.body.slice(0, 4_000)}${
        logs ? `\nworkerd output:\n${logs.slice(-4_000)}` : ""
      }`,
    );
  };
  const json = await checked(target.calls.json);
  const events = noEvents();
  for (const name of STREAM_CALLS) {
    const call = target.calls[name];
    if (call !== undefined) events[name] = countEvents((await checked(call)).body);
  }
  return { json, events };
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`bench: GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** One target's share of one round: its samples and what its processes spent meanwhile. */
interface Slice {
  run: LoadRun;
  cpuSeconds: number;
  backing?: { redisRequests: number; redisCommands: number; neonRequests: number; cpuSeconds: number };
}

/** A phase's figures for one target, merged over the rounds. */
interface PhaseFigures {
  load: LoadResult;
  cpuUs: number;
  /** CPU us per request of each round: their spread says how noisy the machine was. */
  cpuUsRounds: number[];
  backing?: TargetFigures["backing"];
}

type Counters = { requests: number; commands: number };

/** Loads one target for `ms` and charges its serving process's CPU time to the requests. */
async function slice(target: Target, call: HttpCall, concurrency: number, ms: number): Promise<Slice> {
  const stack = target.stack;
  const redisBefore = stack && (await getJson<Counters>(`${stack.ready.controlUrl}/redis/stats`));
  const neonBefore = stack && (await getJson<{ requests: number }>(stack.ready.neonCountUrl));
  const stackCpuBefore = stack ? treeCpuSeconds(stack.pid) : 0;
  const cpuBefore = treeCpuSeconds(target.pid);
  const run = await runLoad(target.url, call, { concurrency, durationMs: ms });
  // Work the requests left behind (waitUntil, usage batches, their 5 ms window) belongs to them.
  await sleep(150);
  const cpuSeconds = treeCpuSeconds(target.pid) - cpuBefore;
  if (!stack || !redisBefore || !neonBefore) return { run, cpuSeconds };
  const stackCpuSeconds = treeCpuSeconds(stack.pid) - stackCpuBefore;
  const redisAfter = await getJson<Counters>(`${stack.ready.controlUrl}/redis/stats`);
  const neonAfter = await getJson<{ requests: number }>(stack.ready.neonCountUrl);
  return {
    run,
    cpuSeconds,
    backing: {
      redisRequests: redisAfter.requests - redisBefore.requests,
      redisCommands: redisAfter.commands - redisBefore.commands,
      neonRequests: neonAfter.requests - neonBefore.requests,
      cpuSeconds: stackCpuSeconds,
    },
  };
}

/**
 * Runs a phase in rounds, the targets taking turns (in a rotating order), so that whatever else
 * the machine is doing weighs on all of them alike; then merges each target's rounds.
 */
async function phase(
  name: string,
  targets: Target[],
  pick: (target: Target) => HttpCall | undefined,
  concurrency: number,
  options: Options,
): Promise<Map<Target, PhaseFigures>> {
  const slices = new Map<Target, Slice[]>();
  const ms = (options.seconds * 1000) / options.rounds;
  for (let round = 0; round < options.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
    for (const target of order) {
      const call = pick(target);
      if (call === undefined) continue;
      const list = slices.get(target) ?? [];
      list.push(await slice(target, call, concurrency, ms));
      slices.set(target, list);
    }
  }
  const figures = new Map<Target, PhaseFigures>();
  for (const [target, list] of slices) {
    const requests = list.reduce((a, sl) => a + requestCount(sl.run), 0) || 1;
    const perRequest = (seconds: number) => (seconds * 1e6) / requests;
    const result: PhaseFigures = {
      load: summarize(list.map((sl) => sl.run)),
      cpuUs: perRequest(list.reduce((a, sl) => a + sl.cpuSeconds, 0)),
      cpuUsRounds: list.map((sl) => (sl.cpuSeconds * 1e6) / Math.max(1, requestCount(sl.run))),
    };
    const backing = list.map((sl) => sl.backing).filter((b) => b !== undefined);
    if (backing.length > 0) {
      result.backing = {
        redisRequests: backing.reduce((a, b) => a + b.redisRequests, 0) / requests,
        redisCommands: backing.reduce((a, b) => a + b.redisCommands, 0) / requests,
        neonRequests: backing.reduce((a, b) => a + b.neonRequests, 0) / requests,
        cpuUs: perRequest(backing.reduce((a, b) => a + b.cpuSeconds, 0)),
      };
    }
    log(summary(`${name}, ${target.label}`, result));
    figures.set(target, result);
  }
  return figures;
}

function summary(label: string, f: PhaseFigures): string {
  const { load } = f;
  const failed =
    load.failed > 0 ? `, ${load.failed} FAILED (first: ${load.firstFailure?.slice(0, 300)})` : "";
  return `${label}: ${Math.round(load.rps)} req/s, p50 ${load.latency.p50.toFixed(2)} ms, p99 ${load.latency.p99.toFixed(2)} ms, TTFB p50 ${load.ttfb.p50.toFixed(2)} ms, ${Math.round(f.cpuUs)} us CPU/req${failed}`;
}

/** Runs each target's calls a while first (JIT, pools); stores the cached phase's one entry. */
async function warmUp(targets: Target[], n: number): Promise<void> {
  for (const target of targets) {
    log(`warming up ${target.label}`);
    await runLoad(target.url, target.calls.json, { concurrency: n, durationMs: 1_500 });
    for (const name of STREAM_CALLS) {
      const call = target.calls[name];
      if (call) await runLoad(target.url, call, { concurrency: n, durationMs: 500 });
    }
    // Stores the cached phase's one entry: every request of the phase is then a hit.
    if (target.calls.cached)
      await runLoad(target.url, target.calls.cached, { concurrency: 1, durationMs: 300 });
  }
}

type PhaseMap = Map<Target, PhaseFigures>;

/** Every phase over every target; the result in the report's shape. */
async function measureAll(targets: Target[], options: Options): Promise<TargetFigures[]> {
  const n = options.concurrency;
  await warmUp(targets, n);
  const run = (name: string, pick: (t: Target) => HttpCall | undefined, c = n) =>
    phase(name, targets, pick, c, options);
  const phases = {
    jsonC1: await run("JSON c=1", (t) => t.calls.json, 1),
    jsonCN: await run(`JSON c=${n}`, (t) => t.calls.json),
    streamC1: await run("stream c=1", (t) => t.calls.stream, 1),
    streamCN: await run(`stream c=${n}`, (t) => t.calls.stream),
    longCN: await run(`long stream c=${n}`, (t) => t.calls.longStream),
    // Native Anthropic streams: the gateway relays them through the runtime (direct, passthrough, gateway).
    messagesCN: await run(`messages stream c=${n}`, (t) => t.calls.messagesStream),
    messagesLongCN: await run(`messages long stream c=${n}`, (t) => t.calls.messagesLongStream),
    // The gateway's chat streams on a stream_passthrough route (forwarded by the runtime).
    passthroughCN: await run(`passthrough stream c=${n}`, (t) => t.calls.passthroughStream),
    passthroughLongCN: await run(`passthrough long stream c=${n}`, (t) => t.calls.passthroughLongStream),
    cachedMissCN: await run(`cached-route miss c=${n}`, (t) => t.calls.cachedMiss),
    cachedCN: await run(`cached JSON c=${n}`, (t) => t.calls.cached),
    healthz: await run(`/healthz c=${n}`, (t) => (t.healthz ? HEALTHZ : undefined)),
  };
  return targets.map((target) => targetFigures(target, phases));
}

/** One target's figures from the phases' maps (undefined where it skipped a phase). */
function targetFigures(target: Target, phases: Record<string, PhaseMap>): TargetFigures {
  const get = (name: string) => phases[name]?.get(target) as PhaseFigures;
  const h = phases.healthz?.get(target);
  const pair = (short: string, long: string, shortEvents: number, longEvents: number) => {
    const [s, l] = [phases[short]?.get(target), phases[long]?.get(target)];
    return s && l
      ? { short: s.load, cpuUsShort: s.cpuUs, shortEvents, long: l.load, cpuUsLong: l.cpuUs, longEvents }
      : undefined;
  };
  const { events } = target;
  return {
    label: target.label,
    kind: target.kind,
    jsonC1: get("jsonC1").load,
    jsonCN: get("jsonCN").load,
    streamC1: get("streamC1").load,
    streamCN: get("streamCN").load,
    cpuUsJson: get("jsonCN").cpuUs,
    cpuUsJsonRounds: get("jsonCN").cpuUsRounds,
    cpuUsStream: get("streamCN").cpuUs,
    longStreamCN: get("longCN").load,
    cpuUsLongStream: get("longCN").cpuUs,
    streamEvents: target.events.stream,
    longStreamEvents: target.events.longStream,
    messages: pair("messagesCN", "messagesLongCN", events.messagesStream, events.messagesLongStream),
    openaiPassthrough: pair(
      "passthroughCN",
      "passthroughLongCN",
      events.passthroughStream,
      events.passthroughLongStream,
    ),
    peakRssMb: treePeakRssMb(target.pid),
    healthz: h && { load: h.load, cpuUs: h.cpuUs },
    cached: phases.cachedCN?.get(target),
    cachedMiss: phases.cachedMissCN?.get(target),
    backing: get("jsonCN").backing,
  };
}

/**
 * `--compare REF`: the gateway as it was at REF, built from a detached worktree (this checkout's
 * node_modules linked in) that is removed on exit, so a change is measured against its base in
 * the same rounds: across runs, this machine's noise exceeds most single changes.
 */
async function buildGatewayAt(ref: string, work: string): Promise<Bundle> {
  const tree = join(work, "compare-tree");
  execFileSync("git", ["-C", ROOT, "worktree", "add", "--detach", "--quiet", tree, ref]);
  // The work folder goes first (the bench's finally): prune forgets the worktree then.
  onExit(() => execFileSync("git", ["-C", ROOT, "worktree", "prune"]));
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"), "dir");
  log(`building the gateway at ${ref} (${tree})`);
  return buildGateway(tree, join(work, "compare"));
}

/** Serves a bundle with workerd and checks it answers chat correctly before any load. */
async function startWorkerTarget(
  bundle: Bundle,
  bindings: Record<string, string>,
  target: Omit<Target, "url" | "pid" | "events">,
  workers: Workerd[],
): Promise<{ target: Target; probe: Probe }> {
  log(`starting workerd for the ${target.label}`);
  const workerd = await serveBundle(ROOT, bundle, bindings);
  workers.push(workerd);
  return probed({ ...target, url: workerd.url, pid: workerd.pid }, workerd.output);
}

/** Probes a target and records the stream sizes it saw. */
async function probed(
  target: Omit<Target, "events">,
  output?: () => string,
): Promise<{ target: Target; probe: Probe }> {
  const seen = await probe({ ...target, events: noEvents() }, output);
  return {
    target: { ...target, events: seen.events },
    probe: seen,
  };
}

/**
 * CPU profiles of the gateway under JSON and streaming load, from a second workerd with the
 * inspector on; the .cpuprofile files are kept in a temp folder for Chrome DevTools.
 */
async function profileGateway(
  bundle: Bundle,
  stack: StackReady,
  measured: Target,
  options: Options,
  workers: Workerd[],
): Promise<void> {
  const inspectorAddress = `127.0.0.1:${await freePort()}`;
  log(`profiling the ${measured.label} (separate workerd, inspector on ${inspectorAddress})`);
  const workerd = await serveBundle(ROOT, bundle, stack.bindings, [`--inspector-addr=${inspectorAddress}`]);
  workers.push(workerd);
  const target: Target = { ...measured, url: workerd.url, pid: workerd.pid };
  await probe(target, workerd.output);
  await runLoad(target.url, target.calls.json, { concurrency: options.concurrency, durationMs: 1_500 });
  const inspector = await connectInspector(inspectorAddress);
  const folder = mkdtempSync(join(tmpdir(), "sluice-bench-profiles-"));
  const bundlePath = join(bundle.dir, bundle.modules[0]?.name ?? "index.js");
  try {
    for (const [name, call] of [
      ["json", target.calls.json],
      ["stream", target.calls.stream],
      ["long-stream", target.calls.longStream],
    ] as const) {
      let requests = 0;
      const profile = await profileWhile(inspector, async () => {
        const run = await runLoad(target.url, call, {
          concurrency: options.concurrency,
          durationMs: options.seconds * 1000,
        });
        requests = requestCount(run);
      });
      const file = join(folder, `gateway-${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(
        `\n${renderProfile(profile, Math.max(1, requests), bundlePath, `${name} chat, concurrency ${options.concurrency}`)}`,
      );
      log(`wrote ${file}`);
    }
  } finally {
    inspector.close();
  }
}

/** Installs and starts each peer, probes it like the other targets; its calls are the direct ones, rerouted. */
async function startPeers(
  names: PeerName[],
  direct: Target,
  folder: string,
  children: Child[],
): Promise<{ peer: Peer; target: Target }[]> {
  const started: { peer: Peer; target: Target }[] = [];
  for (const name of names) {
    log(`installing and starting ${name} (npm, into a temp folder)`);
    const peer = await startPortkey(join(folder, name));
    children.push(peer.child);
    const mockUrl = direct.url;
    const reroute = (call: HttpCall) => portkeyCall(call, mockUrl);
    const calls: ChatCalls = {
      json: reroute(direct.calls.json),
      stream: reroute(direct.calls.stream),
      longStream: reroute(direct.calls.longStream),
    };
    const { target } = await probed(
      { label: peer.label, kind: "peer", url: peer.url, pid: peer.pid, calls, healthz: false },
      peer.child.output,
    );
    started.push({ peer, target });
  }
  return started;
}

/** The latency phase's rows: direct, passthrough, the gateway with each key, then the peers. */
function latencyTargets(
  direct: Target,
  passthrough: Target,
  gateway: Target,
  peers: Target[],
  stack: StackReady,
  ttfb: number,
  compared: Target[] = [],
): LatencyTarget[] {
  const outside = (call: HttpCall) => latencyCall(call, { viaGateway: false, upstreamTtfbMs: ttfb });
  const nearLimit = {
    ...gateway.calls.stream,
    headers: { ...gateway.calls.stream.headers, authorization: `Bearer ${stack.nearLimitKey}` },
  };
  return [
    { label: direct.label, url: direct.url, call: outside(direct.calls.stream), direct: true },
    {
      label: passthrough.label,
      url: passthrough.url,
      call: outside(passthrough.calls.stream),
      passthrough: true,
    },
    {
      label: `${gateway.label}, key with ample headroom`,
      url: gateway.url,
      call: latencyCall(gateway.calls.stream, { viaGateway: true, upstreamTtfbMs: ttfb }),
      gateway: true,
    },
    {
      label: `${gateway.label}, key near its limits`,
      url: gateway.url,
      call: latencyCall(nearLimit, {
        viaGateway: true,
        upstreamTtfbMs: ttfb,
        maxTokens: NEAR_LIMIT_MAX_TOKENS,
      }),
      gateway: true,
    },
    ...peers.map((peer) => ({
      label: peer.label,
      url: peer.url,
      call: portkeyCall(outside(direct.calls.stream), direct.url),
    })),
    // After the two judged rows: shown beside them, with their gap to the passthrough.
    ...compared.map((other) => ({
      label: `${other.label}, key with ample headroom`,
      url: other.url,
      call: latencyCall(other.calls.stream, { viaGateway: true, upstreamTtfbMs: ttfb }),
      gateway: true,
    })),
  ];
}

/**
 * `--heap`: a separate gateway workerd with its inspector on; JSON and stream requests between
 * two heap censuses, under the sampling heap profiler (bench/heap.ts).
 */
async function heapGateway(
  bundle: Bundle,
  stack: StackReady,
  measured: Target,
  requests: number,
  workers: Workerd[],
): Promise<string> {
  const inspectorAddress = `127.0.0.1:${await freePort()}`;
  log(`heap snapshots of the ${measured.label} over ${requests} requests (separate workerd)`);
  const workerd = await serveBundle(ROOT, bundle, stack.bindings, [`--inspector-addr=${inspectorAddress}`]);
  workers.push(workerd);
  const target: Target = { ...measured, url: workerd.url, pid: workerd.pid };
  await probe(target, workerd.output);
  await runLoad(target.url, target.calls.json, { concurrency: 8, durationMs: 1_500 });
  await runLoad(target.url, target.calls.stream, { concurrency: 8, durationMs: 500 });
  const inspector = await connectInspector(inspectorAddress);
  const locateLine = moduleLocator(join(bundle.dir, bundle.modules[0]?.name ?? "index.js"));
  const locate = (line: number, url: string) =>
    url === "" ? "native" : url.startsWith("node-internal:") ? url : locateLine(line);
  try {
    const figures = await heapWhile(inspector, requests, () => sendCount(target, requests), locate);
    return renderHeap(figures, measured.label);
  } finally {
    inspector.close();
  }
}

/** Exactly `n` requests, alternating JSON and short streams, 8 at a time. */
async function sendCount(target: Target, n: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let next = 0;
  const loop = async () => {
    while (next < n) {
      const i = next++;
      await sendOnce(target.url, i % 2 === 0 ? target.calls.json : target.calls.stream, agent);
    }
  };
  await Promise.all(Array.from({ length: 8 }, loop));
  agent.destroy();
}

function versionOf(pkg: string): string {
  const json = JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as {
    version: string;
  };
  return json.version;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = Date.now();
  // What else the machine was doing: figures taken on a busy machine are noisy (compare within the run).
  const loadAverageBefore = loadavg()[0] ?? 0;
  const work = mkdtempSync(join(tmpdir(), "sluice-bench-"));
  onExit(() => rmSync(work, { recursive: true, force: true }));
  const children: Child[] = [];
  const workers: Workerd[] = [];
  try {
    log("building the gateway and the passthrough with wrangler deploy --dry-run");
    const [gatewayBundle, passthroughBundle, compareBundle] = await Promise.all([
      buildGateway(ROOT, join(work, "gateway")),
      buildPassthrough(ROOT, join(work, "passthrough")),
      options.compare ? buildGatewayAt(options.compare, work) : undefined,
    ]);

    log("starting the mock upstream and the backing services (redis, Postgres)");
    const mock = await startService<{ url: string }>(["mock"]);
    children.push(mock.child);
    const stack = await startService<StackReady>([
      "stack",
      mock.ready.url,
      String(options.latency?.upstreamTtfbMs ?? 0),
    ]);
    children.push(stack.child);

    const upstreamKey = "sk-bench-upstream";
    const direct = await probed({
      label: "mock upstream, direct",
      kind: "direct",
      url: mock.ready.url,
      pid: mock.child.pid,
      calls: chatCalls(upstreamKey, false),
      healthz: false,
    });
    const passthrough = await startWorkerTarget(
      passthroughBundle,
      { UPSTREAM_URL: mock.ready.url },
      {
        label: "passthrough worker",
        kind: "passthrough",
        calls: chatCalls(upstreamKey, false),
        healthz: true,
      },
      workers,
    );
    // The same worker making the one limits round trip first: a Redis-backed gateway's floor.
    const limitsFloor = await startWorkerTarget(
      passthroughBundle,
      {
        UPSTREAM_URL: mock.ready.url,
        LIMITS_URL: stack.ready.bindings.UPSTASH_REDIS_REST_URL ?? "",
        LIMITS_TOKEN: stack.ready.bindings.UPSTASH_REDIS_REST_TOKEN ?? "",
      },
      {
        label: LIMITS_FLOOR_LABEL,
        kind: "passthrough",
        calls: chatCalls(upstreamKey, false),
        healthz: false,
      },
      workers,
    );
    const gateway = await startWorkerTarget(
      gatewayBundle,
      stack.ready.bindings,
      {
        label: "sluice gateway",
        kind: "gateway",
        calls: chatCalls(stack.ready.apiKey, true),
        healthz: true,
        stack: { pid: stack.child.pid, ready: stack.ready },
      },
      workers,
    );

    const compared = compareBundle
      ? await startWorkerTarget(
          compareBundle,
          stack.ready.bindings,
          {
            label: `sluice gateway @ ${options.compare}`,
            kind: "gateway",
            calls: gateway.target.calls,
            healthz: true,
          },
          workers,
        )
      : undefined;
    const peers = await startPeers(options.peers, direct.target, join(work, "peers"), children);
    const peerTargets = peers.map((p) => p.target);
    const compareTargets = compared ? [compared.target] : [];
    const figures = await measureAll(
      [
        direct.target,
        passthrough.target,
        limitsFloor.target,
        gateway.target,
        ...compareTargets,
        ...peerTargets,
      ],
      options,
    );
    const extra: string[] = [renderMemory(figures, V8_FLAGS.join(" "))];
    log("cold starts: a fresh workerd per first request (bench/cold-start.ts)");
    const coldStart = await measureColdStart(ROOT, [
      {
        ...passthrough.target,
        kind: "passthrough",
        bundle: passthroughBundle,
        call: passthrough.target.calls.json,
        bindings: { UPSTREAM_URL: mock.ready.url },
      },
      {
        ...gateway.target,
        kind: "gateway",
        bundle: gatewayBundle,
        call: gateway.target.calls.json,
        bindings: stack.ready.bindings,
      },
      ...(compared && compareBundle
        ? [
            {
              ...compared.target,
              kind: "gateway" as const,
              bundle: compareBundle,
              call: compared.target.calls.json,
              bindings: stack.ready.bindings,
            },
          ]
        : []),
    ]);
    extra.push(renderColdStart(coldStart));
    if (peers.length > 0)
      extra.push(
        renderPeers(
          figures,
          peers.map((p) => p.peer),
        ),
      );
    if (options.latency) {
      const { upstreamTtfbMs } = options.latency;
      const targets = latencyTargets(
        direct.target,
        passthrough.target,
        gateway.target,
        peerTargets,
        stack.ready,
        upstreamTtfbMs,
        compareTargets,
      );
      const rows = await measureLatency(targets, stack.ready.bridge, { ...options.latency, ...options });
      extra.push(renderLatency(rows, options.latency));
      log(
        `latency mode: ${rows.map((r) => `${r.label} TTFB p50 ${r.load.ttfb.p50.toFixed(1)} ms`).join("; ")}`,
      );
    }
    if (options.heapRequests > 0) {
      extra.push(
        await heapGateway(gatewayBundle, stack.ready, gateway.target, options.heapRequests, workers),
      );
    }
    // The gateway's own phases on a warm request (the probe's was the isolate's first).
    const timing = (await sendOnce(gateway.target.url, gateway.target.calls.json)).headers["server-timing"];
    const serverTiming = Array.isArray(timing) ? timing.join(", ") : timing;

    const run: RunInfo = {
      date: new Date().toISOString(),
      machine: describeMachine(),
      node: process.version,
      workerd: execFileSync(workerdBinary(ROOT), ["--version"]).toString().trim(),
      wrangler: versionOf("wrangler"),
      postgres: stack.ready.postgresKind,
      secondsPerPhase: options.seconds,
      rounds: options.rounds,
      loadAverageBefore,
      concurrency: options.concurrency,
      serverTiming,
    };
    console.log(`\n${renderTables(run, figures, extra)}\n`);
    const failed = figures.some((f) =>
      [f.jsonC1, f.jsonCN, f.streamC1, f.streamCN, f.longStreamCN, f.messages?.short, f.messages?.long].some(
        (l) => (l?.failed ?? 0) > 0,
      ),
    );
    if (options.write) {
      writeFileSync(join(ROOT, "bench", "RESULTS.md"), renderResults(run, figures, extra));
      log("wrote bench/RESULTS.md");
    }
    if (options.profile) await profileGateway(gatewayBundle, stack.ready, gateway.target, options, workers);
    log(`done in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    if (failed) {
      console.error(
        "bench: some requests failed under load (see the failures column): the figures are suspect",
      );
      process.exitCode = 1;
    }
  } finally {
    for (const workerd of workers) await workerd.stop();
    for (const child of children.reverse()) await child.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
