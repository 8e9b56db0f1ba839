/**
 * `--peers portkey`: Portkey's open-source gateway, measured beside sluice on the same mock.
 * Installed from npm into the run's temp folder (never the project's package.json), started as its
 * own Node server, pinned to the last core with `taskset` when there is one, and routed to the
 * mock by its own headers: `x-portkey-provider: openai` with `x-portkey-custom-host` at the mock's
 * /v1 (127.0.0.1 is one of its default trusted custom hosts), and `x-portkey-forward-headers`
 * passing the mock's options (`x-mock-words`, `x-mock-ttfb-ms`) on.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "../local/net";
import { type Child, startChild } from "./children";
import type { HttpCall, LoadResult } from "./load";
import { added, int, table } from "./markdown";
import type { TargetFigures } from "./report";

export const PORTKEY_VERSION = "1.15.2";

/** Peers `--peers` knows, by name. */
export const PEERS = ["portkey"] as const;
export type PeerName = (typeof PEERS)[number];

export interface Peer {
  label: string;
  url: string;
  /** The Node process serving it (its CPU time and memory are Portkey's). */
  pid: number;
  child: Child;
  /** What was done to run it, for the report. */
  notes: string[];
}

/**
 * Portkey 1.15.2's own streams fail on Node 20 with `TypeError: immutable` (Portkey-AI/gateway
 * issues 1389 and 1550): its stream handler builds `new Response(readable, upstreamResponse)`,
 * whose headers @hono/node-server's Response keeps immutable, then appends its x-portkey-*
 * headers. The fix proposed upstream (PR 1551) copies the headers into a new Response; the bench
 * applies that one expression to the installed bundle, nothing else.
 */
const STREAM_FIX = {
  from: ":new Response(p,e)}const Ad=",
  to: ":new Response(p,{status:e.status,statusText:e.statusText,headers:new Headers(e.headers)})}const Ad=",
};

/** `npm install` of the pinned version into `dir`, then the stream fix; returns the server's entry. */
function installPortkey(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "sluice-bench-portkey",
      private: true,
      dependencies: { "@portkey-ai/gateway": PORTKEY_VERSION },
    }),
  );
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const entry = join(dir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
  const source = readFileSync(entry, "utf8");
  if (!source.includes(STREAM_FIX.from)) {
    throw new Error(
      `bench: Portkey ${PORTKEY_VERSION}'s stream handler is not the expected build; cannot apply the stream fix`,
    );
  }
  writeFileSync(entry, source.replace(STREAM_FIX.from, STREAM_FIX.to));
  return entry;
}

/** taskset, when on the PATH and the machine has more than one core: pins the peer to the last core. */
function pinning(): { command: string; prefix: string[]; note: string } | undefined {
  const cores = cpus().length;
  let taskset = "";
  try {
    taskset = execFileSync("sh", ["-c", "command -v taskset"]).toString().trim();
  } catch {
    // Not installed (util-linux provides it).
  }
  if (cores < 2 || taskset === "") return undefined;
  return {
    command: taskset,
    prefix: ["-c", String(cores - 1)],
    note: `pinned to core ${cores - 1} (taskset)`,
  };
}

/**
 * Installs and starts Portkey's gateway on a free port; resolves once it answers.
 * @example const peer = await startPortkey(join(work, "portkey")); ...; await peer.child.stop();
 */
export async function startPortkey(dir: string): Promise<Peer> {
  const entry = installPortkey(dir);
  const port = await freePort();
  const pin = pinning();
  const args = [entry, `--port=${port}`, "--headless"];
  const child = pin
    ? startChild(pin.command, [...pin.prefix, process.execPath, ...args], { cwd: dir, env: peerEnv() })
    : startChild(process.execPath, args, { cwd: dir, env: peerEnv() });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`Portkey on ${url}`, async () => (await fetch(url)).ok, 30_000);
  } catch (err) {
    await child.stop();
    throw new Error(`bench: ${(err as Error).message}; Portkey said:\n${child.output().slice(-2_000)}`);
  }
  return {
    label: `Portkey ${PORTKEY_VERSION} (Node ${process.version})`,
    url,
    pid: child.pid,
    child,
    notes: [
      `installed from npm into a temp folder; its stream handler's header copy fixed as in Portkey-AI/gateway PR 1551`,
      pin ? pin.note : "not pinned (no taskset or one core)",
    ],
  };
}

/** Production mode (no log UI), nothing of ours but the PATH. */
function peerEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", NODE_ENV: "production" };
}

/**
 * A direct call rewritten for Portkey: same path and body, its routing headers added, the mock's
 * option headers forwarded.
 */
export function portkeyCall(call: HttpCall, mockUrl: string): HttpCall {
  const forwarded = Object.keys(call.headers).filter((name) => name.startsWith("x-mock-"));
  return {
    ...call,
    headers: {
      ...call.headers,
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": `${mockUrl}/v1`,
      ...(forwarded.length > 0 ? { "x-portkey-forward-headers": forwarded.join(",") } : {}),
    },
  };
}

/**
 * sluice against each peer on the phases the issue compares (CPU, added latency, streams at
 * concurrency N), with how the peer was run.
 */
export function renderPeers(all: TargetFigures[], peers: Peer[]): string {
  const direct = all.find((f) => f.kind === "direct");
  const gateway = all.find((f) => f.kind === "gateway");
  if (!direct || !gateway) return "";
  const over = (value: number, base: number) => added(value, base);
  const rows = [gateway, ...all.filter((f) => f.kind === "peer")].map((f) => [
    f.label,
    int(f.cpuUsJson),
    over(f.jsonC1.latency.p50, direct.jsonC1.latency.p50),
    over(f.streamCN.latency.p50, direct.streamCN.latency.p50),
    over(f.streamCN.latency.p99, direct.streamCN.latency.p99),
    over(f.longStreamCN.latency.p50, direct.longStreamCN.latency.p50),
    over(f.longStreamCN.latency.p99, direct.longStreamCN.latency.p99),
    over(f.streamC1.ttfb.p50, direct.streamC1.ttfb.p50),
  ]);
  // The same streams on a stream_passthrough route (measured at concurrency N only).
  const native = gateway.openaiPassthrough;
  if (native)
    rows.push([
      `${gateway.label}, stream_passthrough route`,
      "",
      "",
      over(native.short.latency.p50, direct.streamCN.latency.p50),
      over(native.short.latency.p99, direct.streamCN.latency.p99),
      over(native.long.latency.p50, direct.longStreamCN.latency.p50),
      over(native.long.latency.p99, direct.longStreamCN.latency.p99),
      "",
    ]);
  const verdicts = all
    .filter((f) => f.kind === "peer")
    .flatMap((peer) => {
      const noSlower = (short: LoadResult, long: LoadResult) =>
        short.latency.p50 <= peer.streamCN.latency.p50 && long.latency.p50 <= peer.longStreamCN.latency.p50;
      const lines = [
        `- sluice's streams at concurrency N no slower than ${peer.label}'s (p50, short and long): ${noSlower(gateway.streamCN, gateway.longStreamCN) ? "yes" : "NO"}`,
      ];
      if (native)
        lines.push(
          `- the same on a stream_passthrough route: ${noSlower(native.short, native.long) ? "yes" : "NO"}`,
        );
      return lines;
    });
  const notes = peers.map((p) => `- ${p.label}: ${p.notes.join("; ")}`);
  return `### Beside other gateways (--peers; ms added over the direct upstream; sluice does auth, limits and metering, the peers none)

${table(
  [
    "served by",
    "CPU us/req JSON",
    "added p50 JSON c=1",
    "added p50 stream",
    "added p99 stream",
    "added p50 long stream",
    "added p99 long stream",
    "added TTFB p50 c=1",
  ],
  rows,
)}

${[...verdicts, ...notes].join("\n")}`;
}
