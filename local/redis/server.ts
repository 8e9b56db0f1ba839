import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { freePort, waitFor } from "../net";

/** A throwaway redis-server on 127.0.0.1 that tests can stop and start again on the same port. */
export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:port */
  url: string;
  /** Kills the process abruptly, the way a crash would look to clients. */
  stop(): Promise<void>;
  /** Brings it back on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
}

const INSTALL_HINT = "redis-server is not installed: run `apt-get install -y redis-server`";

function redisBinary(): string {
  return existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";
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
async function launch(port: number): Promise<ChildProcess> {
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn(redisBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2_000);
  };
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  let failure: Error | undefined;
  child.once("error", (error: NodeJS.ErrnoException) => {
    failure = error.code === "ENOENT" ? new Error(INSTALL_HINT) : error;
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

/** Starts redis-server on `opts.port` (or a free port); it holds nothing on disk. */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  // If the test process dies without calling stop(), don't leave redis-server behind.
  const killOnExit = () => child?.kill("SIGKILL");

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (isRunning(child)) return;
      child = await launch(port);
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
