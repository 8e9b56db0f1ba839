/**
 * `--profile`: where a worker's CPU goes, from V8's sampling profiler reached through workerd's
 * inspector. Run on a separate workerd after the measured phases, so its overhead never touches
 * the figures. Writes .cpuprofile files (open them in Chrome DevTools) and prints the top functions.
 */
import { readFileSync } from "node:fs";
import WebSocket from "ws";

/** The parts of a V8 CPU profile this module reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools-protocol session with one worker isolate. */
export interface Inspector {
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Calls `handler` with the params of every event `method` (e.g. HeapProfiler.addHeapSnapshotChunk). */
  on(method: string, handler: (params: Record<string, unknown>) => void): void;
  close(): void;
}

/**
 * Connects to the first isolate workerd's inspector lists (`workerd serve --inspector-addr=...`).
 * @example const inspector = await connectInspector("127.0.0.1:9229");
 */
export async function connectInspector(address: string): Promise<Inspector> {
  const targets = (await (await fetch(`http://${address}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (url === undefined) throw new Error(`bench: workerd's inspector at ${address} lists no isolate`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let nextId = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const listeners = new Map<string, (params: Record<string, unknown>) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: { message: string };
    };
    if (message.method !== undefined) listeners.get(message.method)?.(message.params ?? {});
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (waiter === undefined || message.id === undefined) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
    else waiter.resolve(message.result);
  });
  return {
    send<T>(method: string, params: Record<string, unknown> = {}) {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        // A method workerd's inspector does not answer must fail the run, not hang it.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`inspector: no answer to ${method} within 120 s`));
        }, 120_000);
        const settle =
          <V>(fn: (value: V) => void) =>
          (value: V) => {
            clearTimeout(timer);
            fn(value);
          };
        pending.set(id, { resolve: settle(resolve as (value: unknown) => void), reject: settle(reject) });
        socket.send(JSON.stringify({ id, method, params }));
      });
    },
    on: (method, handler) => {
      listeners.set(method, handler);
    },
    close: () => socket.close(),
  };
}

/** Samples every 50 us while `load` runs; returns the raw profile. */
export async function profileWhile(inspector: Inspector, load: () => Promise<void>): Promise<CpuProfile> {
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 50 });
  await inspector.send("Profiler.start");
  await load();
  const { profile } = await inspector.send<{ profile: CpuProfile }>("Profiler.stop");
  return profile;
}

/**
 * Names the source file of a line of a wrangler bundle, from the `// src/...` and
 * `// node_modules/...` markers esbuild writes before each module.
 */
export function moduleLocator(bundlePath: string): (line: number) => string {
  const markers: { line: number; file: string }[] = [];
  readFileSync(bundlePath, "utf8")
    .split("\n")
    .forEach((text, index) => {
      const match = /^\/\/ ((?:src|node_modules|bench|local)\/\S+)$/.exec(text);
      if (match) markers.push({ line: index, file: (match[1] as string).replace(/^node_modules\//, "") });
    });
  return (line) => {
    let low = 0;
    let high = markers.length - 1;
    let found = "?";
    while (low <= high) {
      const mid = (low + high) >> 1;
      const marker = markers[mid] as { line: number; file: string };
      if (marker.line <= line) {
        found = marker.file;
        low = mid + 1;
      } else high = mid - 1;
    }
    return found;
  };
}

/**
 * The top functions by self and by inclusive time, in microseconds per request, as text.
 * Inclusive time counts a function once per sample even when it recurses.
 */
export function renderProfile(
  profile: CpuProfile,
  requests: number,
  bundlePath: string,
  title: string,
): string {
  const locate = moduleLocator(bundlePath);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const nameOf = (id: number): string => {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return "?";
    const fn = frame.functionName || "(anonymous)";
    if (frame.url === "") return fn.startsWith("(") ? fn : `${fn} (native)`;
    if (frame.url.startsWith("node-internal:")) return `${fn} (${frame.url})`;
    return `${fn} (${locate(frame.lineNumber)})`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const name = nameOf(id);
    self.set(name, (self.get(name) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frameName = nameOf(at);
      if (seen.has(frameName)) continue;
      seen.add(frameName);
      inclusive.set(frameName, (inclusive.get(frameName) ?? 0) + us);
    }
  });
  const per = (us: number) => (us / requests).toFixed(1).padStart(7);
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .filter(([name]) => name !== "(root)" && name !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `${per(us)}  ${name}`);
  const idle = self.get("(idle)") ?? 0;
  return [
    `${title}: ${requests} requests; sampled CPU ${per(total - idle).trim()} us/request (profiler overhead included)`,
    "  self us/req:",
    ...top(self, 15).map((l) => `    ${l}`),
    "  inclusive us/req:",
    ...top(inclusive, 30).map((l) => `    ${l}`),
  ].join("\n");
}
