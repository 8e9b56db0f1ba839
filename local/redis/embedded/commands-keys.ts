import { type CommandSpec, float, formatFloat, globMatcher, int, OK, syntaxError } from "./args";
import type { Keyspace } from "./keyspace";
import { RedisError, type Reply } from "./resp";

function getString(ks: Keyspace, key: string): string | null {
  return ks.typed(key, "string")?.v ?? null;
}

function incrBy(ks: Keyspace, key: string, delta: number): number {
  const current = getString(ks, key);
  const value = (current === null ? 0 : int(current)) + delta;
  if (!Number.isSafeInteger(value)) throw new RedisError("ERR increment or decrement would overflow");
  ks.set(key, { type: "string", v: String(value) }, true);
  return value;
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
function set(ks: Keyspace, [, key = "", value = "", ...options]: string[]): Reply {
  let condition: "NX" | "XX" | undefined;
  let expiresAt: number | undefined;
  let keepTtl = false;
  let returnOld = false;
  for (let i = 0; i < options.length; i++) {
    const option = (options[i] as string).toUpperCase();
    if (option === "NX" || option === "XX") condition = option;
    else if (option === "GET") returnOld = true;
    else if (option === "KEEPTTL") keepTtl = true;
    else if (["EX", "PX", "EXAT", "PXAT"].includes(option)) {
      const n = int(options[++i]);
      if (n <= 0) throw new RedisError("ERR invalid expire time in 'set' command");
      const ms = option.startsWith("E") ? n * 1000 : n;
      expiresAt = option.endsWith("AT") ? ms : ks.now() + ms;
    } else throw syntaxError();
  }
  const old = returnOld ? getString(ks, key) : null;
  const exists = ks.get(key) !== undefined;
  if ((condition === "NX" && exists) || (condition === "XX" && !exists)) return returnOld ? old : null;
  ks.set(key, { type: "string", v: value }, keepTtl);
  if (expiresAt !== undefined) ks.expireAt(key, expiresAt);
  return returnOld ? old : OK;
}

function expire(unitMs: number, absolute: boolean): CommandSpec {
  return {
    arity: 3,
    run: (ks, [, key = "", when]) => {
      const n = int(when) * unitMs;
      return ks.expireAt(key, absolute ? n : ks.now() + n) ? 1 : 0;
    },
  };
}

/** Absolute expiry in `unitMs`: -2 absent, -1 no expiry. */
function expireTime(ks: Keyspace, key: string, unitMs: number): number {
  const ms = ks.pttl(key);
  return ms < 0 ? ms : Math.round((ks.now() + ms) / unitMs);
}

function scan(ks: Keyspace, args: string[]): Reply {
  let match = (_: string) => true;
  for (let i = 2; i < args.length; i += 2) {
    const option = args[i]?.toUpperCase();
    if (option === "MATCH") match = globMatcher(args[i + 1] ?? "");
    else if (option !== "COUNT" && option !== "TYPE") throw syntaxError();
  }
  // One pass returns everything: cursor 0 tells the caller the scan is complete.
  return ["0", ks.keys().filter(match)];
}

function flush(ks: Keyspace): Reply {
  ks.clear();
  return OK;
}

/** Keys, strings and server commands. */
export const KEY_COMMANDS: Record<string, CommandSpec> = {
  ping: { arity: -1, run: (_ks, [, message]) => (message === undefined ? { status: "PONG" } : message) },
  echo: { arity: 2, run: (_ks, [, message = ""]) => message },
  select: { arity: 2, run: (_ks, [, db]) => (db === "0" ? OK : { error: "ERR DB index is out of range" }) },
  info: { arity: -1, run: () => "# Server\r\nredis_version:7.2.0\r\nredis_mode:embedded\r\nloading:0\r\n" },
  client: { arity: -2, run: () => OK },
  dbsize: { arity: 1, run: (ks) => ks.keys().length },
  flushall: { arity: -1, run: flush },
  flushdb: { arity: -1, run: flush },
  keys: { arity: 2, run: (ks, [, pattern = ""]) => ks.keys().filter(globMatcher(pattern)) },
  scan: { arity: -2, run: scan },
  exists: { arity: -2, run: (ks, [, ...keys]) => keys.filter((key) => ks.get(key) !== undefined).length },
  type: { arity: 2, run: (ks, [, key = ""]) => ({ status: ks.get(key)?.type ?? "none" }) },
  del: { arity: -2, run: (ks, [, ...keys]) => keys.filter((key) => ks.delete(key)).length },
  unlink: { arity: -2, run: (ks, [, ...keys]) => keys.filter((key) => ks.delete(key)).length },
  expire: expire(1000, false),
  pexpire: expire(1, false),
  expireat: expire(1000, true),
  pexpireat: expire(1, true),
  persist: {
    arity: 2,
    run: (ks, [, key = ""]) => (ks.pttl(key) >= 0 && ks.expireAt(key, undefined) ? 1 : 0),
  },
  pttl: { arity: 2, run: (ks, [, key = ""]) => ks.pttl(key) },
  pexpiretime: { arity: 2, run: (ks, [, key = ""]) => expireTime(ks, key, 1) },
  expiretime: { arity: 2, run: (ks, [, key = ""]) => expireTime(ks, key, 1000) },
  ttl: {
    arity: 2,
    run: (ks, [, key = ""]) => {
      const ms = ks.pttl(key);
      return ms < 0 ? ms : Math.round(ms / 1000);
    },
  },
  get: { arity: 2, run: (ks, [, key = ""]) => getString(ks, key) },
  getdel: {
    arity: 2,
    run: (ks, [, key = ""]) => {
      const value = getString(ks, key);
      ks.delete(key);
      return value;
    },
  },
  set: { arity: -3, run: set },
  setnx: {
    arity: 3,
    run: (ks, [, key = "", value = ""]) => (set(ks, ["set", key, value, "NX"]) === null ? 0 : 1),
  },
  setex: { arity: 4, run: (ks, [, key = "", s = "", value = ""]) => set(ks, ["set", key, value, "EX", s]) },
  psetex: {
    arity: 4,
    run: (ks, [, key = "", ms = "", value = ""]) => set(ks, ["set", key, value, "PX", ms]),
  },
  mget: {
    arity: -2,
    run: (ks, [, ...keys]) => keys.map((key) => (ks.get(key)?.type === "string" ? getString(ks, key) : null)),
  },
  mset: {
    arity: -3,
    run: (ks, [, ...pairs]) => {
      if (pairs.length % 2 !== 0) throw new RedisError("ERR wrong number of arguments for 'mset' command");
      for (let i = 0; i < pairs.length; i += 2)
        ks.set(pairs[i] as string, { type: "string", v: pairs[i + 1] as string });
      return OK;
    },
  },
  strlen: { arity: 2, run: (ks, [, key = ""]) => Buffer.byteLength(getString(ks, key) ?? "") },
  append: {
    arity: 3,
    run: (ks, [, key = "", tail = ""]) => {
      const value = (getString(ks, key) ?? "") + tail;
      ks.set(key, { type: "string", v: value }, true);
      return Buffer.byteLength(value);
    },
  },
  incr: { arity: 2, run: (ks, [, key = ""]) => incrBy(ks, key, 1) },
  decr: { arity: 2, run: (ks, [, key = ""]) => incrBy(ks, key, -1) },
  incrby: { arity: 3, run: (ks, [, key = "", n]) => incrBy(ks, key, int(n)) },
  decrby: { arity: 3, run: (ks, [, key = "", n]) => incrBy(ks, key, -int(n)) },
  incrbyfloat: {
    arity: 3,
    run: (ks, [, key = "", n]) => {
      const current = getString(ks, key);
      const value = (current === null ? 0 : float(current)) + float(n);
      if (!Number.isFinite(value)) throw new RedisError("ERR increment would produce NaN or Infinity");
      const text = formatFloat(value);
      ks.set(key, { type: "string", v: text }, true);
      return text;
    },
  },
};
