import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import { freePort, waitFor } from "../net";
import { startEmbeddedRedis } from "./embedded/server";

/** A throwaway Redis on 127.0.0.1 that tests can stop and start again on the same port. */
export interface RedisServer {
  /** `redis-server` (the real one, from the PATH) or `embedded` (local/redis/embedded, in this process). */
  kind: RedisKind;
  port: number;
  /** redis://127.0.0.1:port */
  url: string;
  /** Kills the process abruptly, the way a crash would look to clients. */
  stop(): Promise<void>;
  /** Brings it back on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
}

export type RedisKind = "redis-server" | "embedded";

/** redis-server's path on the PATH, or undefined. */
export function redisServerOnPath(path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Which Redis to start: `SLUICE_REDIS=embedded|redis-server` decides; otherwise the real
 * redis-server when it is on the PATH (CI installs it), else the embedded one.
 * @example chooseRedis({ SLUICE_REDIS: "embedded" }) // { kind: "embedded" }
 */
export function chooseRedis(env: NodeJS.ProcessEnv = process.env): { kind: RedisKind; binary?: string } {
  const wanted = env.SLUICE_REDIS ?? "";
  if (wanted !== "" && wanted !== "embedded" && wanted !== "redis-server") {
    throw new Error(`SLUICE_REDIS must be "embedded" or "redis-server", not "${wanted}"`);
  }
  if (wanted === "embedded") return { kind: "embedded" };
  const binary = redisServerOnPath(env.PATH);
  if (binary !== undefined) return { kind: "redis-server", binary };
  if (wanted === "redis-server") {
    throw new Error(
      "SLUICE_REDIS=redis-server but redis-server is not on the PATH: apt-get install -y redis-server",
    );
  }
  return { kind: "embedded" };
}

/** True once something on `port` answers PING with PONG (raw RESP, no client library needed). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
    socket.write("PING\r\n");
  });
}

function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Spawns redis-server without any persistence and resolves once it answers PING. */
async function launch(binary: string, port: number): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  let failure: Error | undefined;
  child.once("error", (error: NodeJS.ErrnoException) => {
    failure = error;
  });
  child.once("exit", (code, signal) => {
    failure ??= new Error(`redis-server exited (${code ?? signal}) before answering PING: ${output.trim()}`);
  });
  // An early exit ends the wait too, so a port clash fails at once instead of after the timeout.
  try {
    await waitFor(`redis-server on port ${port}`, async () => failure !== undefined || answersPing(port));
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  if (failure) throw failure;
  return child;
}

/**
 * Starts Redis on `opts.port` (or a free port), holding nothing on disk: redis-server when it is on
 * the PATH, else the embedded one (see `chooseRedis`).
 */
export async function startRedisServer(
  opts: { port?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const choice = chooseRedis(opts.env);
  if (choice.kind === "embedded") {
    const embedded = await startEmbeddedRedis(port);
    return {
      kind: "embedded",
      port,
      url: `redis://127.0.0.1:${port}`,
      start: embedded.start,
      stop: embedded.stop,
    };
  }
  const binary = choice.binary as string;
  let child: ChildProcess | undefined;
  // If the test process dies without calling stop(), don't leave redis-server behind.
  const killOnExit = () => child?.kill("SIGKILL");

  const server: RedisServer = {
    kind: "redis-server",
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (isRunning(child)) return;
      child = await launch(binary, port);
      process.once("exit", killOnExit);
    },
    async stop() {
      process.removeListener("exit", killOnExit);
      const running = child;
      child = undefined;
      if (!isRunning(running)) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGKILL");
      await exited;
    },
  };
  await server.start();
  return server;
}
