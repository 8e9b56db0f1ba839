import { createHash } from "node:crypto";

/** Upstash-only shebang flag that stock Redis rejects ("ERR Unexpected flag in script shebang"). */
const UPSTASH_ONLY_FLAG = "allow-key-locking";

const sha1 = (text: string): string => createHash("sha1").update(text).digest("hex");

/** Drops the Upstash-only flag from a `#!lua flags=...` first line; other flags and line numbers stay. */
export function stripUpstashFlags(script: string): string {
  const lineEnd = script.indexOf("\n");
  const firstLine = lineEnd === -1 ? script : script.slice(0, lineEnd);
  const match = /^#!lua\s+flags=(\S*)\s*$/.exec(firstLine);
  const flags = match?.[1]?.split(",") ?? [];
  if (!flags.includes(UPSTASH_ONLY_FLAG)) return script;
  const kept = flags.filter((flag) => flag !== "" && flag !== UPSTASH_ONLY_FLAG);
  const shebang = kept.length > 0 ? `#!lua flags=${kept.join(",")}` : "#!lua";
  return shebang + script.slice(firstLine.length);
}

/** A command as stock Redis should see it, and the reply the client expects if it differs. */
export interface RewrittenCommand {
  args: string[];
  replyOverride?: string;
}

/**
 * Rewrites script commands for stock Redis. Clients address scripts by the SHA1 of the text they
 * sent (shebang included), so EVALSHA is mapped to the SHA1 of the stripped script Redis knows.
 * An unknown SHA1 passes through untouched: Redis answers NOSCRIPT and the client falls back to EVAL.
 */
export function createScriptRewriter(): (args: string[]) => RewrittenCommand {
  const strippedShaOf = new Map<string, string>();

  const remember = (script: string): string => {
    const stripped = stripUpstashFlags(script);
    if (stripped !== script) strippedShaOf.set(sha1(script), sha1(stripped));
    return stripped;
  };
  const redisSha = (sha: string): string => strippedShaOf.get(sha.toLowerCase()) ?? sha;

  return (args) => {
    if (args.length < 2) return { args };
    const [name = "", first = "", ...rest] = args;
    const command = name.toLowerCase();
    if (command === "eval" || command === "eval_ro") return { args: [name, remember(first), ...rest] };
    if (command === "evalsha" || command === "evalsha_ro") return { args: [name, redisSha(first), ...rest] };
    if (command === "script" && first.toLowerCase() === "load" && rest[0] !== undefined) {
      return { args: [name, first, remember(rest[0])], replyOverride: sha1(rest[0]) };
    }
    if (command === "script" && first.toLowerCase() === "exists") {
      return { args: [name, first, ...rest.map(redisSha)] };
    }
    return { args };
  };
}
