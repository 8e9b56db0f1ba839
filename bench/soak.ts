/**
 * `npm run soak -- --minutes 10 --rate 200 [--pause-seconds 5] [--no-write]`
 *
 * The gateway (built like a deploy, served by workerd with the 128 MB heap cap) under an open
 * loop: requests leave at a fixed rate whatever the answers do, and each one's latency counts from
 * its scheduled send time, so a stall shows as the queue it causes. The mix (bench/soak-mix.ts)
 * has JSON, streams, client aborts and upstream faults; halfway through, redis-server is stopped
 * (SIGSTOP) for a few seconds. Per minute: workerd's RSS, latency percentiles and status counts.
 * At the end: usage rows in Postgres against requests sent, 5xx other than `limits_unavailable`
 * during the pause, and flat memory. Writes bench/SOAK.md; exits 1 when a check fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { createDatabase } from "../src/db/client";
import { buildGateway } from "./build";
import { type Child, onExit } from "./children";
import { describeMachine, findInTree, treeRssMb } from "./proc";
import { startService } from "./service-child";
import type { StackReady } from "./services";
import { kindAt, SOAK_TENANT, soakKinds } from "./soak-mix";
import { renderSoak, type SoakMinute, type SoakResult } from "./soak-report";
import { type Outcome, sendSoakRequest } from "./soak-request";
import { serveBundle, V8_FLAGS, type Workerd } from "./workerd";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (message: string) => console.log(`soak: ${message}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SoakOptions {
  minutes: number;
  rate: number;
  pauseSeconds: number;
  write: boolean;
}

function parseOptions(argv: string[]): SoakOptions {
  const options: SoakOptions = { minutes: 10, rate: 200, pauseSeconds: 5, write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = () => Number(argv[++i]);
    if (arg === "--minutes") options.minutes = number();
    else if (arg === "--rate") options.rate = number();
    else if (arg === "--pause-seconds") options.pauseSeconds = number();
    else if (arg === "--no-write") options.write = false;
    else
      throw new Error(
        `soak: unknown argument ${arg} (use --minutes N, --rate N, --pause-seconds N, --no-write)`,
      );
  }
  if (!(Number.isInteger(options.minutes) && options.minutes >= 1 && options.minutes <= 120)) {
    throw new Error("soak: --minutes must be a whole number in [1, 120]");
  }
  if (!(options.rate > 0 && options.rate <= 2_000)) throw new Error("soak: --rate must be in (0, 2000]");
  if (!(options.pauseSeconds >= 0 && options.pauseSeconds <= 60)) {
    throw new Error("soak: --pause-seconds must be in [0, 60]");
  }
  return options;
}

/** Counts per minute, filled as answers come in. */
function newMinute(): SoakMinute {
  return { sent: 0, outcomes: new Map(), latencies: [], peakRssMb: 0 };
}

/**
 * The open loop: request i leaves at start + i / rate; a tick every 2 ms sends whatever is due.
 * Resolves when the last answer is in (or 60 s after the last send).
 */
async function openLoop(
  url: string,
  apiKey: string,
  options: SoakOptions,
  minutes: SoakMinute[],
  onTick: (elapsedMs: number) => void,
): Promise<{ sent: number; unanswered: number }> {
  const kinds = soakKinds(apiKey);
  const agent = new Agent({ keepAlive: true, maxSockets: 4_096, maxFreeSockets: 256 });
  const durationMs = options.minutes * 60_000;
  const start = performance.now();
  let sent = 0;
  let inFlight = 0;
  const total = Math.floor((durationMs * options.rate) / 1000);
  while (sent < total) {
    const elapsed = performance.now() - start;
    onTick(elapsed);
    // Request i is scheduled at i / rate: at `elapsed`, requests 0 .. floor(elapsed * rate) are due.
    const due = Math.min(Math.floor((elapsed * options.rate) / 1000) + 1, total);
    for (; sent < due; sent++) {
      const scheduled = start + (sent * 1000) / options.rate;
      const minute = minutes[Math.floor((scheduled - start) / 60_000)] as SoakMinute;
      const kind = kindAt(kinds, sent);
      minute.sent += 1;
      inFlight += 1;
      sendSoakRequest(url, kind, agent).then((outcome: Outcome) => {
        inFlight -= 1;
        minute.outcomes.set(outcome.key, (minute.outcomes.get(outcome.key) ?? 0) + 1);
        if (outcome.answered) minute.latencies.push(performance.now() - scheduled);
        minute.fiveXx ??= [];
        if (outcome.status >= 500) minute.fiveXx.push({ atMs: scheduled - start, key: outcome.key });
      });
    }
    await sleep(2);
  }
  const deadline = performance.now() + 60_000;
  while (inFlight > 0 && performance.now() < deadline) await sleep(50);
  agent.destroy();
  return { sent, unanswered: inFlight };
}

/** Usage rows of the soak's tenant, polled until they stop growing (usage goes in batches, in waitUntil). */
async function usageRows(stack: StackReady, expected: number): Promise<number> {
  const db = createDatabase(stack.bindings.DATABASE_URL ?? "", stack.bindings.NEON_FETCH_ENDPOINT);
  let last = -1;
  let stableSince = performance.now();
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const result = await db.execute(
      sql`select count(*)::int as n from usage_events where tenant = ${SOAK_TENANT}`,
    );
    const rows = Number((result.rows[0] as { n: number }).n);
    if (rows >= expected) return rows;
    if (rows !== last) {
      last = rows;
      stableSince = performance.now();
    } else if (performance.now() - stableSince > 15_000) return rows;
    await sleep(1_000);
  }
  return last;
}

/** SIGSTOP redis-server halfway through for `seconds`, then SIGCONT; returns the window (ms from start). */
function redisPauser(
  stackPid: number,
  options: SoakOptions,
): { tick(elapsedMs: number): void; window?: [number, number] } {
  const at = (options.minutes * 60_000) / 2;
  const pauser: { tick(elapsedMs: number): void; window?: [number, number] } = {
    tick(elapsed) {
      if (options.pauseSeconds === 0 || pauser.window !== undefined || elapsed < at) return;
      const pid = findInTree(stackPid, "redis-server");
      if (pid === undefined)
        throw new Error("soak: no redis-server under the stack (SLUICE_REDIS=embedded cannot be paused)");
      pauser.window = [elapsed, elapsed + options.pauseSeconds * 1000];
      log(`pausing redis-server (pid ${pid}) for ${options.pauseSeconds} s`);
      process.kill(pid, "SIGSTOP");
      setTimeout(() => {
        process.kill(pid, "SIGCONT");
        log("redis-server resumed");
      }, options.pauseSeconds * 1000);
    },
  };
  return pauser;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const loadAverageBefore = loadavg()[0] ?? 0;
  const work = mkdtempSync(join(tmpdir(), "sluice-soak-"));
  onExit(() => rmSync(work, { recursive: true, force: true }));
  const children: Child[] = [];
  let workerd: Workerd | undefined;
  try {
    log("building the gateway with wrangler deploy --dry-run");
    const bundle = await buildGateway(ROOT, join(work, "gateway"));
    const mock = await startService<{ url: string }>(["mock"]);
    children.push(mock.child);
    const stack = await startService<StackReady>(["stack", mock.ready.url, "0"]);
    children.push(stack.child);
    workerd = await serveBundle(ROOT, bundle, stack.ready.bindings);
    log(
      `gateway on ${workerd.url} (workerd pid ${workerd.pid}); ${options.minutes} min at ${options.rate} req/s`,
    );
    const minutes = Array.from({ length: options.minutes }, newMinute);
    const pauser = redisPauser(stack.child.pid, options);
    const w = workerd;
    let lastSample = -1;
    const { sent, unanswered } = await openLoop(w.url, stack.ready.soakKey, options, minutes, (elapsed) => {
      const second = Math.floor(elapsed / 1_000);
      if (second !== lastSample) {
        lastSample = second;
        const index = Math.min(minutes.length - 1, Math.floor(second / 60));
        const minute = minutes[index] as SoakMinute;
        minute.peakRssMb = Math.max(minute.peakRssMb, treeRssMb(w.pid));
        if (second % 60 === 59)
          log(`minute ${index + 1}: ${minute.sent} sent, workerd RSS ${minute.peakRssMb.toFixed(0)} MB`);
      }
      pauser.tick(elapsed);
    });
    log(`sent ${sent} requests; waiting for their usage rows`);
    const rows = await usageRows(stack.ready, sent);
    const result: SoakResult = {
      date: new Date().toISOString(),
      machine: describeMachine(),
      loadAverageBefore,
      options,
      v8Flags: V8_FLAGS.join(" "),
      minutes,
      sent,
      unanswered,
      rows,
      pause: pauser.window,
      kinds: soakKinds("").map((k) => ({ name: k.name, weight: k.weight })),
    };
    const { markdown, ok } = renderSoak(result);
    console.log(`\n${markdown}`);
    if (options.write) {
      writeFileSync(join(ROOT, "bench", "SOAK.md"), markdown);
      log("wrote bench/SOAK.md");
    }
    if (!ok) {
      console.error(`soak: a check failed; the end of workerd's output:\n${w.output().slice(-3_000)}`);
      process.exitCode = 1;
    }
  } finally {
    await workerd?.stop();
    for (const child of children.reverse()) await child.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
