/**
 * A closed-loop HTTP load generator on raw node:http with keep-alive: `concurrency` loops each send
 * a request, read the whole answer, and send the next, for a fixed time. Cheaper per request than
 * fetch/undici, so more of the machine is left to what is being measured.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";

/** One request, sent the same way every time. */
export interface HttpCall {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** A stream: only a 200 ending with its final event (see finalEvent) counts as a success. */
  stream?: boolean;
  /**
   * The line that opens a stream's last event, when it is not OpenAI's `data: [DONE]` (which the
   * body must end with): Anthropic's `event: message_stop` is followed by its own data line.
   */
  finalEvent?: string;
}

/** Milliseconds. */
export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** Failures by status ("0" = network error, "200!" = a stream without its final event). */
  failures: Record<string, number>;
  /** Status and body of the first failure, for the error message. */
  firstFailure?: string;
  seconds: number;
  /** Successful requests per second. */
  rps: number;
  /** Request sent → last body byte, successes only. */
  latency: Distribution;
  /** Request sent → first body byte, successes only. */
  ttfb: Distribution;
}

/** What one request gave. */
export interface Sample {
  status: number;
  ok: boolean;
  ttfbMs: number;
  totalMs: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** How an OpenAI stream ends. */
export const DONE_MARKER = "data: [DONE]";

/** Whether a stream body ends with the call's final event: `data: [DONE]`, or the finalEvent line's event. */
function streamEnded(call: HttpCall, body: string): boolean {
  const text = body.trimEnd();
  if (call.finalEvent === undefined) return text.endsWith(DONE_MARKER);
  // The last event: what follows the last blank line (the tail only, CRLF or LF).
  const tail = text.slice(-2_000).replaceAll("\r\n", "\n");
  const lastEvent = tail.slice(tail.lastIndexOf("\n\n") + 2);
  return tail.includes("\n\n") && lastEvent.split("\n")[0] === call.finalEvent;
}

/**
 * Sends one request and reads the whole answer (also used for probes).
 * @example const s = await sendOnce("http://127.0.0.1:8787", { method: "GET", path: "/healthz", headers: {} });
 */
export function sendOnce(baseUrl: string, call: HttpCall, agent?: Agent): Promise<Sample> {
  const url = new URL(baseUrl);
  const payload = call.body === undefined ? undefined : Buffer.from(call.body);
  const headers: Record<string, string | number> = { ...call.headers };
  if (payload !== undefined) headers["content-length"] = payload.length;
  return new Promise((resolve) => {
    const start = performance.now();
    const failed = (message: string): void =>
      resolve({ status: 0, ok: false, ttfbMs: 0, totalMs: 0, headers: {}, body: message });
    const req = request(
      { agent, host: url.hostname, port: url.port, method: call.method, path: call.path, headers },
      (res) => {
        let first = -1;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => {
          if (first < 0) first = performance.now();
          chunks.push(chunk);
        });
        res.once("error", (err) => failed(`answer interrupted: ${err.message}`));
        res.once("end", () => {
          const end = performance.now();
          const status = res.statusCode ?? 0;
          const body = Buffer.concat(chunks).toString("utf8");
          const ok = status === 200 && (!call.stream || streamEnded(call, body));
          resolve({
            status,
            ok,
            ttfbMs: (first < 0 ? end : first) - start,
            totalMs: end - start,
            headers: res.headers,
            body,
          });
        });
      },
    );
    req.once("error", (err) => failed(`request failed: ${err.message}`));
    req.end(payload);
  });
}

/** The raw outcome of one load run; several runs (rounds) merge into one LoadResult. */
export interface LoadRun {
  /** Request sent → last body byte, successes only (ms). */
  latencies: number[];
  /** Request sent → first body byte, successes only (ms). */
  ttfbs: number[];
  failures: Record<string, number>;
  firstFailure?: string;
  seconds: number;
}

/**
 * Runs `concurrency` request loops for `durationMs` and keeps every sample. With `staggerMs`, loop
 * i starts i x staggerMs late: loops whose requests all take about as long would otherwise stay in
 * step and reach the target together every time.
 * @example const run = await runLoad(url, call, { concurrency: 16, durationMs: 1000 }); summarize([run]).rps
 */
export async function runLoad(
  baseUrl: string,
  call: HttpCall,
  opts: { concurrency: number; durationMs: number; staggerMs?: number },
): Promise<LoadRun> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: opts.concurrency,
    maxFreeSockets: opts.concurrency,
  });
  const run: LoadRun = { latencies: [], ttfbs: [], failures: {}, seconds: 0 };
  const start = performance.now();
  const deadline = start + opts.durationMs;
  const loop = async (lane: number) => {
    if (opts.staggerMs) await new Promise((resolve) => setTimeout(resolve, lane * (opts.staggerMs ?? 0)));
    while (performance.now() < deadline) {
      const sample = await sendOnce(baseUrl, call, agent);
      if (sample.ok) {
        run.latencies.push(sample.totalMs);
        run.ttfbs.push(sample.ttfbMs);
        continue;
      }
      const kind = sample.status === 200 ? "200!" : String(sample.status);
      run.failures[kind] = (run.failures[kind] ?? 0) + 1;
      run.firstFailure ??= `HTTP ${sample.status}: ${sample.body.slice(0, 2_000)}`;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, lane) => loop(lane)));
  run.seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return run;
}

/** Requests a run sent, successful or not. */
export function requestCount(run: LoadRun): number {
  return run.latencies.length + Object.values(run.failures).reduce((a, b) => a + b, 0);
}

/** Merges the rounds of one phase: percentiles over all samples, req/s over the time spent loading. */
export function summarize(runs: LoadRun[]): LoadResult {
  const failures: Record<string, number> = {};
  for (const run of runs) {
    for (const [kind, n] of Object.entries(run.failures)) failures[kind] = (failures[kind] ?? 0) + n;
  }
  const latencies = runs.flatMap((r) => r.latencies);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    ok: latencies.length,
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    firstFailure: runs.find((r) => r.firstFailure !== undefined)?.firstFailure,
    seconds,
    rps: seconds > 0 ? latencies.length / seconds : Number.NaN,
    latency: distribution(latencies),
    ttfb: distribution(runs.flatMap((r) => r.ttfbs)),
  };
}

/** Percentiles by nearest rank over the sorted samples. */
export function distribution(samples: number[]): Distribution {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) =>
    sorted.length === 0
      ? Number.NaN
      : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
  };
}
