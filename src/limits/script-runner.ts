import { errors, type Redis, type Requester } from "@upstash/redis/cloudflare";
import { StallBreaker, StoreStalledError } from "./stall-breaker";

/** The script commands the gate sends: the subset of @upstash/redis's client it uses. */
export interface ScriptRunner {
  eval<T>(script: string, keys: string[], args: unknown[]): Promise<T>;
  evalsha<T>(sha: string, keys: string[], args: unknown[]): Promise<T>;
  /** A plain GET, in the same tick's pipeline (the response cache's lookup rides the gate's round trip). */
  get<T>(key: string): Promise<T>;
}

/**
 * The runner scriptRunner builds: also SETEX, in the same tick's pipeline (response-cache stores
 * ride the settlement batches).
 */
export interface CommandRunner extends ScriptRunner {
  setex<T>(key: string, seconds: number, value: string): Promise<T>;
}

/**
 * The gate's script runner over an @upstash/redis client: commands go through a TickPipeline on
 * the client's own HTTP layer, or straight to the client when it has none (a test double).
 * @example const runner = scriptRunner(redis); await runner.evalsha(sha, ["key"], [1])
 */
export function scriptRunner(redis: Redis): CommandRunner {
  // `client` is the client's HTTP layer; it is not part of its typed API.
  const requester = (redis as unknown as { client?: Requester }).client;
  if (typeof requester?.request !== "function") return redis as unknown as CommandRunner;
  const pipe = new TickPipeline(requester);
  return {
    eval: (script, keys, args) => pipe.send(scriptCommand("eval", script, keys, args)),
    evalsha: (sha, keys, args) => pipe.send(scriptCommand("evalsha", sha, keys, args)),
    get: (key) => pipe.send(["get", key]),
    setex: (key, seconds, value) => pipe.send(["setex", key, String(seconds), value]),
  };
}

function scriptCommand(verb: string, script: string, keys: string[], args: unknown[]): string[] {
  const command = [verb, script, String(keys.length), ...keys];
  for (const arg of args) command.push(String(arg));
  return command;
}

interface Queued {
  command: string[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Commands issued in one tick, sent as ONE Upstash `/pipeline` request through an @upstash/redis
 * HTTP layer (auth, timeout signal, retry, response encoding). It stands in for the client's
 * auto-pipelining on the gate's hot path: that builds a `Pipeline` object per round trip, whose
 * hundreds of bound methods cost ~60 us of CPU each time in workerd, plus an object per command.
 * Replies come back as Redis sent them (strings are not re-parsed as JSON): the gate's readers
 * accept both forms. While the store stalls (StallBreaker), a tick's commands are refused at once.
 */
export class TickPipeline {
  private queued: Queued[] | null = null;

  constructor(
    private readonly requester: Requester,
    private readonly breaker = new StallBreaker(),
  ) {}

  /** Queues one command (its arguments as strings); it is sent with the rest of this tick's. */
  send<T>(command: string[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued === null) {
        this.queued = [];
        // Microtasks run in the issuing request's context: the fetch belongs to that request. A
        // promise reaction, not queueMicrotask: the same microtask, without the runtime's wrapper.
        Promise.resolve().then(() => this.flush());
      }
      this.queued.push({ command, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private flush(): void {
    const batch = this.queued ?? [];
    this.queued = null;
    if (!this.breaker.allows()) {
      const stalled = new StoreStalledError();
      for (const q of batch) q.reject(stalled);
      return;
    }
    this.requester.request<unknown>({ path: ["pipeline"], body: batch.map((q) => q.command) }).then(
      (replies) => {
        this.breaker.ended();
        const list = replies as unknown as { result?: unknown; error?: string }[];
        batch.forEach((q, i) => {
          const reply = list[i];
          if (reply && reply.error === undefined) q.resolve(reply.result);
          else q.reject(new errors.UpstashError(`Command failed: ${reply?.error ?? "no reply"}`));
        });
      },
      (error: unknown) => {
        this.breaker.ended(error);
        for (const q of batch) q.reject(error);
      },
    );
  }
}
