/**
 * Every process the benchmark starts goes through here, so that a normal end, an error, Ctrl-C or
 * SIGTERM all leave nothing running. Each child leads its own process group (detached), so killing
 * the group also reaches what it started (redis-server under the stack).
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";

const live = new Set<ChildProcess>();
const cleanups: (() => void)[] = [];
let handlersInstalled = false;

/** A synchronous clean-up (e.g. removing a temp folder) that also runs on Ctrl-C or SIGTERM. */
export function onExit(cleanup: () => void): void {
  installHandlers();
  cleanups.push(cleanup);
}

/** A started child with the tail of its output kept for error messages. */
export interface Child {
  process: ChildProcess;
  pid: number;
  /** The last few KB of stdout + stderr. */
  output(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `command` as the leader of a new process group and tracks it until it exits.
 * @example const child = startChild("/path/to/workerd", ["serve", "config.capnp"]);
 */
export function startChild(command: string, args: string[], options: SpawnOptions = {}): Child {
  installHandlers();
  const child = spawn(command, args, {
    ...options,
    detached: true,
    stdio: options.stdio ?? ["pipe", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  live.add(child);
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      live.delete(child);
      resolve();
    });
  });
  return {
    process: child,
    pid,
    output: () => tail,
    async stop(graceMs = 3_000) {
      if (!live.has(child)) return;
      signalGroup(pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Anything the child left behind in its group (it exited, they may not have).
      signalGroup(pid, "SIGKILL");
    },
  };
}

/** Kills every tracked child's group, then runs the clean-ups; synchronous, for `exit` handlers. */
export function killAllChildren(): void {
  for (const child of live) if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
  live.clear();
  for (const cleanup of cleanups.splice(0)) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is ending.
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", killAllChildren);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping everything it started`);
      killAllChildren();
      process.exit(code);
    });
  }
}
