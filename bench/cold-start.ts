/**
 * The first answered request after an isolate starts (issue 18: within 2x of the passthrough's).
 * Each repetition starts a fresh `workerd serve` on the bundle (same config and flags as the
 * bench's) and sends the JSON chat call until one is answered: the time from spawning workerd to
 * that answer covers the script's compile and top-level evaluation, and the gateway's first-request
 * work (config, keys, services). The answering request's own time is reported beside it.
 *
 * `npm run bench` runs it beside the other phases; `tsx bench/cold-start.ts [--repetitions N]`
 * runs it alone (its own mock and backing stack).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../local/net";
import { workerdBinary, workerdConfig } from "../local/workerd";
import { type Bundle, buildGateway, buildPassthrough } from "./build";
import { distribution, type HttpCall, sendOnce } from "./load";
import { table } from "./markdown";
import { treeCpuSeconds } from "./proc";

/** One worker to start cold: its bundle, bindings, and the call that must be answered. */
export interface ColdStartTarget {
  label: string;
  kind: "passthrough" | "gateway";
  bundle: Bundle;
  bindings: Record<string, string>;
  call: HttpCall;
}

/** One target's cold starts, in milliseconds. */
export interface ColdStartFigures {
  label: string;
  kind: ColdStartTarget["kind"];
  /** workerd spawned → first answer's last byte, each repetition. */
  firstAnswerMs: number[];
  /** The answering request alone (sent → last byte), each repetition. */
  firstRequestMs: number[];
  /** workerd's CPU time up to that answer (robust on a busy machine, 10 ms ticks), each repetition. */
  cpuMs: number[];
}

const GIVE_UP_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts workerd fresh and retries the call until it is answered; then stops workerd. */
async function coldStartOnce(
  root: string,
  target: ColdStartTarget,
): Promise<{ total: number; request: number; cpu: number }> {
  const port = await freePort();
  const { bundle } = target;
  const configPath = join(bundle.dir, `cold-start-${port}.capnp`);
  writeFileSync(configPath, workerdConfig(bundle, { port, bindingNames: Object.keys(target.bindings) }));
  const started = performance.now();
  const child = spawn(workerdBinary(root), ["serve", configPath], {
    cwd: bundle.dir,
    env: { PATH: process.env.PATH ?? "", ...target.bindings },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  try {
    const url = `http://127.0.0.1:${port}`;
    while (performance.now() - started < GIVE_UP_MS) {
      if (child.exitCode !== null) break;
      const sample = await sendOnce(url, target.call);
      if (sample.status === 0) {
        await sleep(1); // not listening yet
        continue;
      }
      if (!sample.ok) throw new Error(`answered HTTP ${sample.status}: ${sample.body.slice(0, 1_000)}`);
      const total = performance.now() - started;
      return { total, request: sample.totalMs, cpu: treeCpuSeconds(child.pid as number) * 1000 };
    }
    throw new Error(`no answer within ${GIVE_UP_MS} ms`);
  } catch (err) {
    throw new Error(`bench: cold start of the ${target.label}: ${(err as Error).message}\n${output.trim()}`);
  } finally {
    await stop(child);
    rmSync(configPath, { force: true });
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/**
 * Cold-starts every target `repetitions` times, taking turns so a busy moment weighs on all alike.
 * @example const figures = await measureColdStart(ROOT, [passthrough, gateway], 7)
 */
export async function measureColdStart(
  root: string,
  targets: ColdStartTarget[],
  repetitions = 7,
): Promise<ColdStartFigures[]> {
  const figures = targets.map((t) => ({
    label: t.label,
    kind: t.kind,
    firstAnswerMs: [] as number[],
    firstRequestMs: [] as number[],
    cpuMs: [] as number[],
  }));
  for (let i = 0; i < repetitions; i++) {
    for (const [index, target] of targets.entries()) {
      const once = await coldStartOnce(root, target);
      figures[index]?.firstAnswerMs.push(once.total);
      figures[index]?.firstRequestMs.push(once.request);
      figures[index]?.cpuMs.push(once.cpu);
    }
  }
  return figures;
}

/** The median by nearest rank, as the bench's other tables read p50. */
const median = (values: number[]): number => distribution(values).p50;

/**
 * The report's section: medians and ranges per target, and the gateway-to-passthrough ratio.
 * @example extra.push(renderColdStart(await measureColdStart(ROOT, targets)))
 */
export function renderColdStart(figures: ColdStartFigures[]): string {
  const ms = (n: number) => n.toFixed(1);
  const rows = figures.map((f) => [
    f.label,
    ms(median(f.firstAnswerMs)),
    `${ms(Math.min(...f.firstAnswerMs))}-${ms(Math.max(...f.firstAnswerMs))}`,
    ms(median(f.firstRequestMs)),
    median(f.cpuMs).toFixed(0),
  ]);
  const floor = figures.find((f) => f.kind === "passthrough");
  const gateway = figures.find((f) => f.kind === "gateway");
  let check = "";
  if (floor && gateway) {
    const ratio = median(gateway.firstAnswerMs) / median(floor.firstAnswerMs);
    const cpuRatio = median(gateway.cpuMs) / Math.max(1, median(floor.cpuMs));
    check = `\n\n- ${gateway.label}'s first answer within 2x of the passthrough's: ${ratio <= 2 ? "yes" : "NO"} (${ratio.toFixed(2)}x; workerd CPU to get there ${cpuRatio.toFixed(2)}x)`;
  }
  const reps = figures[0]?.firstAnswerMs.length ?? 0;
  return `### First answered request after an isolate starts (${reps} fresh workerd processes each)

${table(
  [
    "served by",
    "spawn → first answer, median ms",
    "range ms",
    "that request alone, median ms",
    "workerd CPU until then, median ms",
  ],
  rows,
)}${check}`;
}

/** Alone: builds both workers, starts the mock and the backing stack, prints the section. */
async function main(): Promise<void> {
  const { startService } = await import("./service-child");
  const { chatCalls } = await import("./scenarios");
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const flag = process.argv.indexOf("--repetitions");
  const repetitions = flag >= 0 ? Number(process.argv[flag + 1]) : 7;
  const work = mkdtempSync(join(tmpdir(), "sluice-cold-start-"));
  const children: { stop(): Promise<void> }[] = [];
  try {
    const [gateway, passthrough] = await Promise.all([
      buildGateway(root, join(work, "gateway")),
      buildPassthrough(root, join(work, "passthrough")),
    ]);
    const mock = await startService<{ url: string }>(["mock"]);
    children.push(mock.child);
    const stack = await startService<{ bindings: Record<string, string>; apiKey: string }>([
      "stack",
      mock.ready.url,
      "0",
    ]);
    children.push(stack.child);
    const figures = await measureColdStart(
      root,
      [
        {
          label: "passthrough worker",
          kind: "passthrough",
          bundle: passthrough,
          bindings: { UPSTREAM_URL: mock.ready.url },
          call: chatCalls("sk-bench-upstream", false).json,
        },
        {
          label: "sluice gateway",
          kind: "gateway",
          bundle: gateway,
          bindings: stack.ready.bindings,
          call: chatCalls(stack.ready.apiKey, true).json,
        },
      ],
      repetitions,
    );
    console.log(renderColdStart(figures));
  } finally {
    for (const child of children.reverse()) await child.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("cold-start.ts")) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
