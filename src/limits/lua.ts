import { hexDigest } from "../digest";
import type { ScriptRunner } from "./script-runner";

/**
 * A Lua script called by SHA once Redis knows it. The command is issued synchronously on `run`,
 * so it joins the pipeline of the commands issued in the same tick (one HTTP request).
 * Until the SHA is computed (crypto.subtle is async) it sends the script text with EVAL, which
 * also loads it; EVALSHA falls back to EVAL when Redis answers NOSCRIPT (e.g. after a restart).
 */
export class LuaScript {
  private sha: string | null = null;

  constructor(
    private readonly redis: ScriptRunner,
    readonly source: string,
  ) {
    // Until (or unless) the digest is ready, run() keeps sending the text: slower, never wrong.
    hexDigest("SHA-1", source).then(
      (sha) => {
        this.sha = sha;
      },
      () => {},
    );
  }

  /** Runs the script; the command is queued before this returns. */
  run<T>(keys: string[], args: (string | number)[]): Promise<T> {
    if (this.sha === null) return this.redis.eval<T>(this.source, keys, args);
    return this.redis.evalsha<T>(this.sha, keys, args).catch((error: unknown) => {
      if (!String(error).includes("NOSCRIPT")) throw error;
      return this.redis.eval<T>(this.source, keys, args);
    });
  }
}
