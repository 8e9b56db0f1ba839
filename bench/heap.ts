/**
 * `--heap`: what each gateway request allocates and what it leaves behind, from V8 through
 * workerd's inspector (a separate workerd, after the measured phases, like --profile):
 * - allocated: the sampling heap profiler over N requests, objects later collected included
 *   (bytes per request by allocating function);
 * - retained: heap snapshots (each after a full GC) before and after the same N requests, compared
 *   by constructor (what grew, in bytes and objects per request).
 * The sampling profiler is statistical (one sample per 16 KiB allocated): read its bytes as
 * estimates; the snapshots' figures are exact for the live heap.
 */
import { int, table } from "./markdown";
import type { Inspector } from "./profile";

/** Sampling heap profile (HeapProfiler.stopSampling). */
interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes and object count per constructor (or kind, for strings, code and V8 internals). */
type Census = Map<string, { bytes: number; count: number }>;

export interface HeapFigures {
  requests: number;
  /** Live heap after full GCs, before and after the requests (bytes). */
  liveBefore: number;
  liveAfter: number;
  /** Estimated bytes allocated per request (sampling profiler). */
  allocatedPerRequest: number;
  topAllocators: { name: string; bytesPerRequest: number }[];
  /** Constructors whose live bytes grew most over the requests. */
  topRetained: { name: string; bytes: number; count: number }[];
}

/**
 * Takes a heap snapshot and counts its objects by constructor. V8 collects all garbage before it
 * snapshots (workerd's inspector never answers HeapProfiler.collectGarbage, so that is the GC).
 */
async function census(inspector: Inspector): Promise<{ census: Census; live: number }> {
  const chunks: string[] = [];
  inspector.on("HeapProfiler.addHeapSnapshotChunk", (params) => chunks.push(String(params.chunk)));
  await inspector.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  const snap = JSON.parse(chunks.join("")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = [
    fields.indexOf("type"),
    fields.indexOf("name"),
    fields.indexOf("self_size"),
  ];
  const result: Census = new Map();
  let live = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt] as number] ?? "?";
    const name = snap.strings[snap.nodes[i + nameAt] as number] ?? "?";
    const size = snap.nodes[i + sizeAt] as number;
    live += size;
    const key = groupOf(type, name);
    const entry = result.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += 1;
    result.set(key, entry);
  }
  return { census: result, live };
}

/** Objects by constructor name; strings, code and V8's own structures by kind. */
function groupOf(type: string, name: string): string {
  if (type === "object" || type === "closure" || type === "regexp") {
    return type === "closure" ? `closure ${name || "(anonymous)"}` : name.slice(0, 60);
  }
  if (type.includes("string")) return "(strings)";
  if (type === "array") return `(array) ${name.slice(0, 40)}`;
  return `(${type})`;
}

/** Sums a sampling profile's bytes per function (named with its module, when `locate` knows it). */
function allocators(root: SamplingNode, locate: (line: number, url: string) => string): Map<string, number> {
  const byName = new Map<string, number>();
  const walk = (node: SamplingNode) => {
    const frame = node.callFrame;
    const name = `${frame.functionName || "(anonymous)"} (${locate(frame.lineNumber, frame.url)})`;
    byName.set(name, (byName.get(name) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(root);
  return byName;
}

/**
 * Runs `load` (which sends `requests` requests) between two censuses, under the sampling profiler.
 * @example const figures = await heapWhile(inspector, 2_000, () => sendN(2_000), locate);
 */
export async function heapWhile(
  inspector: Inspector,
  requests: number,
  load: () => Promise<void>,
  locate: (line: number, url: string) => string,
): Promise<HeapFigures> {
  await inspector.send("HeapProfiler.enable");
  const before = await census(inspector);
  await inspector.send("HeapProfiler.startSampling", {
    samplingInterval: 16_384,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await load();
  const { profile } = await inspector.send<{ profile: { head: SamplingNode } }>("HeapProfiler.stopSampling");
  // Work the requests left behind (waitUntil, usage batches) settles before the second census.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const after = await census(inspector);
  const byName = allocators(profile.head, locate);
  const allocated = [...byName.values()].reduce((a, b) => a + b, 0);
  const grown = [...after.census]
    .map(([name, a]) => {
      const b = before.census.get(name) ?? { bytes: 0, count: 0 };
      return { name, bytes: a.bytes - b.bytes, count: a.count - b.count };
    })
    .sort((x, y) => y.bytes - x.bytes);
  return {
    requests,
    liveBefore: before.live,
    liveAfter: after.live,
    allocatedPerRequest: allocated / requests,
    topAllocators: [...byName]
      .filter(([, bytes]) => bytes > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([name, bytes]) => ({ name, bytesPerRequest: bytes / requests })),
    topRetained: grown.filter((g) => g.bytes > 0).slice(0, 10),
  };
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

/** The heap section: allocated and retained per request, and who allocates and keeps it. */
export function renderHeap(f: HeapFigures, label: string): string {
  const retained = (f.liveAfter - f.liveBefore) / f.requests;
  return `### Heap per request (${label}, ${int(f.requests)} JSON and stream requests; --heap)

- Allocated: ~${kib(f.allocatedPerRequest)} KiB per request (sampling heap profiler, collected objects included)
- Retained: ${retained >= 0 ? "+" : ""}${int(retained)} bytes per request (live heap after full GCs: ${kib(f.liveBefore)} KiB before, ${kib(f.liveAfter)} KiB after)

${table(
  ["allocated by", "KiB per request"],
  f.topAllocators.map((a) => [a.name, kib(a.bytesPerRequest)]),
)}

${table(
  ["live objects that grew (constructor)", "bytes", "objects", "bytes per request"],
  f.topRetained.map((r) => [r.name, int(r.bytes), int(r.count), (r.bytes / f.requests).toFixed(1)]),
)}`;
}

/** Peak RSS of each serving process, and the check: the gateway within 2x the passthrough. */
export function renderMemory(
  rows: { label: string; kind: string; peakRssMb: number }[],
  heapLimit: string,
): string {
  const floor = rows.find((r) => r.kind === "passthrough");
  const gateway = rows.find((r) => r.kind === "gateway");
  const check =
    floor && gateway
      ? `\n\n- ${gateway.label} peak RSS within 2x the passthrough's: ${gateway.peakRssMb <= 2 * floor.peakRssMb ? "yes" : "NO"} (${(gateway.peakRssMb / floor.peakRssMb).toFixed(2)}x)`
      : "";
  return `### Memory (peak RSS over the whole run; workerd with ${heapLimit})

${table(
  ["served by", "peak RSS MB"],
  rows.map((r) => [r.label, r.peakRssMb.toFixed(0)]),
)}${check}`;
}
