import { createHash } from "node:crypto";
import { type LuaEngine, LuaFactory } from "wasmoon";
import { RedisError, type Reply } from "./resp";

/**
 * Redis's scripting API over a real Lua VM (Lua 5.4 compiled to WebAssembly by wasmoon): 64-bit
 * integers and doubles like the C Lua inside redis-server, which runs 5.1. The 5.1 differences
 * sluice's and @upstash/ratelimit's scripts could meet are bridged here: `unpack` is global,
 * numbers handed to redis.call print as integers when they are whole, and a script's numbers are
 * truncated to integers in the reply, as Redis does.
 *
 * Why not ioredis-mock (Lua through fengari): fengari's integers are 32-bit, so sluice's
 * `string.format("%d", now + lease)` on a millisecond timestamp fails ("number has no integer
 * representation") and a script's 2.7 comes back as 2.7, not 2; it also has no RESP server for the
 * bridge. wasmoon is C Lua itself, with 64-bit integers and doubles.
 */
const PRELUDE = `
unpack = table.unpack
local call = __redis_call
local function check(reply)
  if type(reply) == "table" and reply.err ~= nil then error(reply, 0) end
  return reply
end
redis = {
  call = function(...) return check(call(...)) end,
  pcall = function(...) return call(...) end,
  error_reply = function(message) return { err = message } end,
  status_reply = function(status) return { ok = status } end,
  sha1hex = __sha1hex,
  log = function() end,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
__redis_call = nil
__sha1hex = nil

local function convert(v)
  local t = type(v)
  if t == "number" then
    local whole = v < 0 and math.ceil(v) or math.floor(v)
    return { i = string.format("%d", whole) }
  elseif t == "string" then return { s = v }
  elseif t == "boolean" then
    if v then return { i = "1" } end
    return { n = true }
  elseif t == "table" then
    if v.err ~= nil then return { e = tostring(v.err) } end
    if v.ok ~= nil then return { st = tostring(v.ok) } end
    local items, i = {}, 1
    while v[i] ~= nil do items[i] = convert(v[i]); i = i + 1 end
    return { a = items, len = i - 1 }
  end
  return { n = true }
end

function __sluice_run(f)
  local ok, result = pcall(f)
  if not ok then
    if type(result) == "table" and result.err ~= nil then return { e = tostring(result.err) } end
    return { e = "ERR Error running script: " .. tostring(result) }
  end
  return convert(result)
end
`;

type Tagged = { i?: string; s?: string; n?: true; st?: string; e?: string; a?: Tagged[]; len?: number };

function fromLua(value: Tagged): Reply {
  if (value.i !== undefined) return Number(value.i);
  if (value.s !== undefined) return value.s;
  if (value.st !== undefined) return { status: value.st };
  if (value.e !== undefined) return { error: value.e };
  if (value.a !== undefined)
    return Array.from({ length: value.len ?? 0 }, (_, k) => fromLua(value.a?.[k] ?? { n: true }));
  return null;
}

/** A reply as Redis hands it to Lua: nil is false, status and error replies are tables. */
function toLua(reply: Reply): unknown {
  if (reply === null) return false;
  if (typeof reply === "bigint") return Number(reply);
  if (Array.isArray(reply)) return reply.map(toLua);
  if (typeof reply === "object") return "status" in reply ? { ok: reply.status } : { err: reply.error };
  return reply;
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** Runs one Redis command for a script; errors come back as replies. */
export type CommandRunner = (args: string[]) => Reply;

/** The scripting half of the embedded Redis: a script cache by SHA1 and EVAL over one Lua VM. */
export interface Scripting {
  load(script: string): string;
  exists(sha: string): boolean;
  eval(sha: string, keys: string[], argv: string[]): Reply;
  flush(): void;
}

/**
 * Creates the Lua VM; `run` executes the commands scripts call (with the same keyspace).
 * @example const lua = await createScripting((args) => dispatch(args)); lua.eval(lua.load("return 1"), [], []);
 */
export async function createScripting(run: CommandRunner): Promise<Scripting> {
  const engine: LuaEngine = await new LuaFactory().createEngine({
    injectObjects: false,
    enableProxy: false,
    traceAllocations: false,
  });
  engine.global.set("__redis_call", (...args: unknown[]) => {
    if (args.length === 0) return { err: "ERR Please specify at least one argument for this redis lib call" };
    const strings: string[] = [];
    for (const arg of args) {
      if (typeof arg === "string") strings.push(arg);
      else if (typeof arg === "number") strings.push(String(arg));
      else return { err: "ERR Lua redis lib command arguments must be strings or integers" };
    }
    return toLua(run(strings));
  });
  engine.global.set("__sha1hex", (text: unknown) => sha1(String(text)));
  engine.doStringSync(PRELUDE);
  const loaded = new Set<string>();

  return {
    load(script) {
      const sha = sha1(script);
      if (loaded.has(sha)) return sha;
      // A shebang line (`#!lua flags=...`) is Redis 7 syntax, not Lua: keep the line, drop its text.
      const body = script.startsWith("#!") ? script.replace(/^[^\n]*/, "") : script;
      try {
        engine.doStringSync(`function f_${sha}()\n${body}\nend`);
      } catch (error) {
        throw new RedisError(`ERR Error compiling script (new function): ${(error as Error).message}`);
      }
      loaded.add(sha);
      return sha;
    },
    exists: (sha) => loaded.has(sha.toLowerCase()),
    eval(sha, keys, argv) {
      const name = `f_${sha.toLowerCase()}`;
      if (!loaded.has(sha.toLowerCase()))
        throw new RedisError("NOSCRIPT No matching script. Please use EVAL.");
      engine.global.set("KEYS", keys);
      engine.global.set("ARGV", argv);
      const result = engine.doStringSync(`return __sluice_run(${name})`) as Tagged;
      return fromLua(result);
    },
    flush() {
      for (const sha of loaded) engine.doStringSync(`f_${sha} = nil`);
      loaded.clear();
    },
  };
}
