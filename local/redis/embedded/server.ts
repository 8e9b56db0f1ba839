/**
 * An embedded Redis for machines without redis-server: the RESP protocol on a TCP port, an
 * in-memory keyspace and Lua scripting on a real Lua VM (see lua.ts), so the bridge, the tests and
 * `npm run dev` talk to it exactly as to redis-server. Scope: the commands sluice, @upstash/redis's
 * tests and @upstash/ratelimit use; single database, no persistence, no pub/sub.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { CommandSpec } from "./args";
import { COLLECTION_COMMANDS } from "./commands-collections";
import { KEY_COMMANDS } from "./commands-keys";
import { Keyspace } from "./keyspace";
import { createScripting, type Scripting } from "./lua";
import { commandParser, encodeReply, RedisError, type Reply } from "./resp";

const COMMANDS: Record<string, CommandSpec> = { ...KEY_COMMANDS, ...COLLECTION_COMMANDS };

/** Commands only allowed outside scripts (they would nest or block). */
const NOT_IN_SCRIPTS = new Set([
  "eval",
  "evalsha",
  "eval_ro",
  "evalsha_ro",
  "script",
  "multi",
  "exec",
  "discard",
]);

function wrongArity(name: string): RedisError {
  return new RedisError(`ERR wrong number of arguments for '${name}' command`);
}

/** Checks the command exists and has a valid number of arguments (what Redis checks while queueing). */
function validate(args: string[]): string {
  const name = (args[0] ?? "").toLowerCase();
  const spec = COMMANDS[name];
  const special = [
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "script",
    "multi",
    "exec",
    "discard",
    "watch",
    "unwatch",
    "quit",
  ];
  if (spec === undefined && !special.includes(name)) {
    throw new RedisError(
      `ERR unknown command '${args[0]}', with args beginning with: ${args
        .slice(1, 4)
        .map((a) => `'${a}'`)
        .join(" ")}`,
    );
  }
  if (spec && (spec.arity > 0 ? args.length !== spec.arity : args.length < -spec.arity))
    throw wrongArity(name);
  if (name.startsWith("eval") && args.length < 3) throw wrongArity(name);
  return name;
}

/** The command engine shared by every connection: plain commands, scripts and SCRIPT. */
function createEngine(keyspace: Keyspace, scripting: () => Scripting) {
  const runPlain = (args: string[]): Reply => {
    const name = validate(args);
    const spec = COMMANDS[name];
    if (!spec) throw new RedisError(`ERR '${name}' is not allowed here`);
    return spec.run(keyspace, args);
  };
  const inScript = (args: string[]): Reply => {
    try {
      if (NOT_IN_SCRIPTS.has((args[0] ?? "").toLowerCase()))
        throw new RedisError("ERR This Redis command is not allowed from script");
      return runPlain(args);
    } catch (error) {
      if (error instanceof RedisError) return { error: error.message };
      throw error;
    }
  };
  const evalCommand = (name: string, [, first = "", count, ...rest]: string[]): Reply => {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 0) throw new RedisError("ERR value is not an integer or out of range");
    if (n > rest.length) throw new RedisError("ERR Number of keys can't be greater than number of args");
    const sha = name.startsWith("evalsha") ? first : scripting().load(first);
    return scripting().eval(sha, rest.slice(0, n), rest.slice(n));
  };
  const script = ([, sub = "", ...rest]: string[]): Reply => {
    const op = sub.toLowerCase();
    if (op === "load" && rest.length === 1) return scripting().load(rest[0] as string);
    if (op === "exists") return rest.map((sha) => (scripting().exists(sha) ? 1 : 0));
    if (op === "flush") {
      scripting().flush();
      return { status: "OK" };
    }
    throw new RedisError(`ERR unknown subcommand or wrong number of arguments for '${sub}'`);
  };
  return {
    inScript,
    /** Runs one command outside MULTI; a Redis error becomes an error reply. */
    run(args: string[]): Reply {
      try {
        const name = validate(args);
        if (name.startsWith("eval")) return evalCommand(name, args);
        if (name === "script") return script(args);
        if (name === "watch" || name === "unwatch") return { status: "OK" };
        return runPlain(args);
      } catch (error) {
        if (error instanceof RedisError) return { error: error.message };
        throw error;
      }
    },
  };
}

type Engine = ReturnType<typeof createEngine>;

/** One client connection: RESP in, RESP out, with MULTI/EXEC queueing. */
function serveConnection(socket: Socket, engine: Engine): void {
  let queue: string[][] | undefined;
  let aborted = false;
  const reply = (value: Reply) => socket.write(encodeReply(value));
  const onCommand = (args: string[]) => {
    const name = (args[0] ?? "").toLowerCase();
    if (name === "quit") return void socket.end(encodeReply({ status: "OK" }));
    if (name === "multi") {
      if (queue) return reply({ error: "ERR MULTI calls can not be nested" });
      queue = [];
      aborted = false;
      return reply({ status: "OK" });
    }
    if (name === "discard" || name === "exec") {
      if (!queue) return reply({ error: `ERR ${name.toUpperCase()} without MULTI` });
      const queued = queue;
      queue = undefined;
      if (name === "discard") return reply({ status: "OK" });
      if (aborted) return reply({ error: "EXECABORT Transaction discarded because of previous errors." });
      return reply(queued.map((command) => engine.run(command)));
    }
    if (!queue) return reply(engine.run(args));
    try {
      validate(args);
      queue.push(args);
      reply({ status: "QUEUED" });
    } catch (error) {
      aborted = true;
      reply({ error: (error as Error).message });
    }
  };
  const feed = commandParser(onCommand);
  socket.on("data", (chunk: Buffer) => {
    try {
      feed(chunk);
    } catch (error) {
      socket.end(encodeReply({ error: (error as Error).message }));
    }
  });
  socket.on("error", () => socket.destroy());
}

/** A running embedded Redis. */
export interface EmbeddedRedis {
  port: number;
  /** Stops listening and drops every connection and all data, like a crashed redis-server. */
  stop(): Promise<void>;
  /** Listens again on the same port, empty. */
  start(): Promise<void>;
}

/**
 * Starts an embedded Redis on 127.0.0.1:`port`.
 * @example const redis = await startEmbeddedRedis(6380); ...; await redis.stop();
 */
export async function startEmbeddedRedis(port: number): Promise<EmbeddedRedis> {
  const keyspace = new Keyspace();
  let scripting: Scripting | undefined;
  const engine = createEngine(keyspace, () => scripting as Scripting);
  scripting = await createScripting((args) => engine.inScript(args));
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const start = async () => {
    if (server) return;
    const next = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      serveConnection(socket, engine);
    });
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
    });
    server = next;
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    if (!running) return;
    const closed = [...sockets].map((socket) => new Promise((resolve) => socket.once("close", resolve)));
    for (const socket of sockets) socket.destroy();
    await Promise.all([...closed, new Promise<void>((resolve) => running.close(() => resolve()))]);
    // Let clients in this process see their connections close, as they would after a crash.
    await new Promise((resolve) => setTimeout(resolve, 20));
    keyspace.clear();
    scripting?.flush();
  };
  await start();
  return { port, start, stop };
}
