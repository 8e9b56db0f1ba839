import { type CommandSpec, float, formatFloat, int, OK, syntaxError } from "./args";
import type { Keyspace } from "./keyspace";
import { RedisError, type Reply } from "./resp";

const newHash = () => ({ type: "hash" as const, v: new Map<string, string>() });
const newList = () => ({ type: "list" as const, v: [] as string[] });
const newSet = () => ({ type: "set" as const, v: new Set<string>() });
const newZset = () => ({ type: "zset" as const, v: new Map<string, number>() });

function pairsOf(args: string[], command: string): [string, string][] {
  if (args.length === 0 || args.length % 2 !== 0) {
    throw new RedisError(`ERR wrong number of arguments for '${command}' command`);
  }
  const pairs: [string, string][] = [];
  for (let i = 0; i < args.length; i += 2) pairs.push([args[i] as string, args[i + 1] as string]);
  return pairs;
}

/** Redis's inclusive start/stop with negative indexes, clamped to the list. */
function range(length: number, start: number, stop: number): [number, number] {
  const from = Math.max(start < 0 ? length + start : start, 0);
  const to = Math.min(stop < 0 ? length + stop : stop, length - 1);
  return [from, to];
}

function hset(ks: Keyspace, [name = "", key = "", ...rest]: string[]): number {
  const pairs = pairsOf(rest, name.toLowerCase());
  const hash = ks.ensure(key, "hash", newHash);
  let added = 0;
  for (const [field, value] of pairs) {
    if (!hash.v.has(field)) added++;
    hash.v.set(field, value);
  }
  return added;
}

function push(atHead: boolean): CommandSpec {
  return {
    arity: -3,
    run: (ks, [, key = "", ...values]) => {
      const list = ks.ensure(key, "list", newList);
      if (atHead) list.v.unshift(...values.reverse());
      else list.v.push(...values);
      return list.v.length;
    },
  };
}

/** LPOP/RPOP key [count]: one value, or (with a count) an array, nil when the list is absent. */
function pop(atHead: boolean): CommandSpec {
  return {
    arity: -2,
    run: (ks, [, key = "", count]) => {
      const list = ks.typed(key, "list");
      const n = count === undefined ? 1 : int(count);
      if (n < 0) throw new RedisError("ERR value is out of range, must be positive");
      const taken = list ? (atHead ? list.v.splice(0, n) : list.v.splice(-n || list.v.length).reverse()) : [];
      ks.dropIfEmpty(key);
      if (count === undefined) return taken[0] ?? null;
      return list ? taken : null;
    },
  };
}

/** A score bound: "(1" exclusive, "-inf"/"+inf". */
function scoreBound(text: string | undefined): { value: number; exclusive: boolean } {
  const exclusive = text?.startsWith("(") ?? false;
  return { value: float(exclusive ? text?.slice(1) : text), exclusive };
}

function inScoreRange(min: string | undefined, max: string | undefined): (score: number) => boolean {
  const lo = scoreBound(min);
  const hi = scoreBound(max);
  return (score) =>
    (lo.exclusive ? score > lo.value : score >= lo.value) &&
    (hi.exclusive ? score < hi.value : score <= hi.value);
}

/** Members by score, then lexicographically (Redis's order). */
function sortedMembers(zset: Map<string, number>): [string, number][] {
  return [...zset.entries()].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
}

function zadd(ks: Keyspace, [, key = "", ...rest]: string[]): Reply {
  const flags = new Set<string>();
  while (rest.length > 0 && ["NX", "XX", "GT", "LT", "CH"].includes((rest[0] as string).toUpperCase())) {
    flags.add((rest.shift() as string).toUpperCase());
  }
  const pairs = pairsOf(rest, "zadd").map(([score, member]) => [float(score), member] as const);
  const zset = ks.ensure(key, "zset", newZset);
  let changed = 0;
  for (const [score, member] of pairs) {
    const old = zset.v.get(member);
    if ((flags.has("NX") && old !== undefined) || (flags.has("XX") && old === undefined)) continue;
    if (old !== undefined && ((flags.has("GT") && score <= old) || (flags.has("LT") && score >= old)))
      continue;
    if (old === undefined || (flags.has("CH") && old !== score)) changed++;
    zset.v.set(member, score);
  }
  ks.dropIfEmpty(key);
  return changed;
}

/** ZRANGE key start stop [BYSCORE] [REV] [LIMIT offset count] [WITHSCORES] */
function zrange(ks: Keyspace, [, key = "", start, stop, ...options]: string[]): Reply {
  const upper = options.map((o) => o.toUpperCase());
  const byScore = upper.includes("BYSCORE");
  const rev = upper.includes("REV");
  const limitAt = upper.indexOf("LIMIT");
  const known = new Set(["BYSCORE", "REV", "WITHSCORES", "LIMIT"]);
  if (upper.some((o, i) => !known.has(o) && !(limitAt >= 0 && (i === limitAt + 1 || i === limitAt + 2)))) {
    throw syntaxError();
  }
  const members = sortedMembers(ks.typed(key, "zset")?.v ?? new Map());
  if (rev) members.reverse();
  let picked: [string, number][];
  if (byScore) {
    const inRange = rev ? inScoreRange(stop, start) : inScoreRange(start, stop);
    picked = members.filter(([, score]) => inRange(score));
    if (limitAt >= 0) {
      const offset = int(options[limitAt + 1]);
      const count = int(options[limitAt + 2]);
      picked = picked.slice(offset, count < 0 ? undefined : offset + count);
    }
  } else {
    const [from, to] = range(members.length, int(start), int(stop));
    picked = members.slice(from, to + 1);
  }
  return picked.flatMap(([member, score]) =>
    upper.includes("WITHSCORES") ? [member, formatFloat(score)] : [member],
  );
}

/** Hashes, lists, sets and sorted sets. */
export const COLLECTION_COMMANDS: Record<string, CommandSpec> = {
  hset: { arity: -4, run: hset },
  hmset: {
    arity: -4,
    run: (ks, args) => {
      hset(ks, args);
      return OK;
    },
  },
  hsetnx: {
    arity: 4,
    run: (ks, [, key = "", field = "", value = ""]) => {
      const hash = ks.ensure(key, "hash", newHash);
      if (hash.v.has(field)) return 0;
      hash.v.set(field, value);
      return 1;
    },
  },
  hget: { arity: 3, run: (ks, [, key = "", field = ""]) => ks.typed(key, "hash")?.v.get(field) ?? null },
  hmget: {
    arity: -3,
    run: (ks, [, key = "", ...fields]) => fields.map((f) => ks.typed(key, "hash")?.v.get(f) ?? null),
  },
  hgetall: {
    arity: 2,
    run: (ks, [, key = ""]) => [...(ks.typed(key, "hash")?.v ?? new Map<string, string>())].flat(),
  },
  hkeys: { arity: 2, run: (ks, [, key = ""]) => [...(ks.typed(key, "hash")?.v.keys() ?? [])] },
  hvals: { arity: 2, run: (ks, [, key = ""]) => [...(ks.typed(key, "hash")?.v.values() ?? [])] },
  hlen: { arity: 2, run: (ks, [, key = ""]) => ks.typed(key, "hash")?.v.size ?? 0 },
  hexists: { arity: 3, run: (ks, [, key = "", field = ""]) => (ks.typed(key, "hash")?.v.has(field) ? 1 : 0) },
  hdel: {
    arity: -3,
    run: (ks, [, key = "", ...fields]) => {
      const hash = ks.typed(key, "hash");
      const removed = fields.filter((field) => hash?.v.delete(field)).length;
      ks.dropIfEmpty(key);
      return removed;
    },
  },
  hincrby: {
    arity: 4,
    run: (ks, [, key = "", field = "", n]) => {
      const hash = ks.ensure(key, "hash", newHash);
      const current = hash.v.get(field);
      const value = (current === undefined ? 0 : int(current)) + int(n);
      hash.v.set(field, String(value));
      return value;
    },
  },
  lpush: push(true),
  rpush: push(false),
  lpop: pop(true),
  rpop: pop(false),
  llen: { arity: 2, run: (ks, [, key = ""]) => ks.typed(key, "list")?.v.length ?? 0 },
  lindex: {
    arity: 3,
    run: (ks, [, key = "", index]) => {
      const list = ks.typed(key, "list")?.v ?? [];
      const i = int(index);
      return list[i < 0 ? list.length + i : i] ?? null;
    },
  },
  lrange: {
    arity: 4,
    run: (ks, [, key = "", start, stop]) => {
      const list = ks.typed(key, "list")?.v ?? [];
      const [from, to] = range(list.length, int(start), int(stop));
      return list.slice(from, to + 1);
    },
  },
  ltrim: {
    arity: 4,
    run: (ks, [, key = "", start, stop]) => {
      const list = ks.typed(key, "list");
      if (!list) return OK;
      const [from, to] = range(list.v.length, int(start), int(stop));
      list.v = list.v.slice(from, to + 1);
      ks.dropIfEmpty(key);
      return OK;
    },
  },
  sadd: {
    arity: -3,
    run: (ks, [, key = "", ...members]) => {
      const set = ks.ensure(key, "set", newSet);
      return members.filter((m) => !set.v.has(m) && set.v.add(m)).length;
    },
  },
  srem: {
    arity: -3,
    run: (ks, [, key = "", ...members]) => {
      const set = ks.typed(key, "set");
      const removed = members.filter((m) => set?.v.delete(m)).length;
      ks.dropIfEmpty(key);
      return removed;
    },
  },
  smembers: { arity: 2, run: (ks, [, key = ""]) => [...(ks.typed(key, "set")?.v ?? [])] },
  scard: { arity: 2, run: (ks, [, key = ""]) => ks.typed(key, "set")?.v.size ?? 0 },
  sismember: { arity: 3, run: (ks, [, key = "", m = ""]) => (ks.typed(key, "set")?.v.has(m) ? 1 : 0) },
  smismember: {
    arity: -3,
    run: (ks, [, key = "", ...ms]) => ms.map((m) => (ks.typed(key, "set")?.v.has(m) ? 1 : 0)),
  },
  zadd: { arity: -4, run: zadd },
  zcard: { arity: 2, run: (ks, [, key = ""]) => ks.typed(key, "zset")?.v.size ?? 0 },
  zscore: {
    arity: 3,
    run: (ks, [, key = "", member = ""]) => {
      const score = ks.typed(key, "zset")?.v.get(member);
      return score === undefined ? null : formatFloat(score);
    },
  },
  zrem: {
    arity: -3,
    run: (ks, [, key = "", ...members]) => {
      const zset = ks.typed(key, "zset");
      const removed = members.filter((m) => zset?.v.delete(m)).length;
      ks.dropIfEmpty(key);
      return removed;
    },
  },
  zrange: { arity: -4, run: zrange },
  zrangebyscore: {
    arity: -4,
    run: (ks, [, key = "", min = "", max = "", ...rest]) =>
      zrange(ks, ["zrange", key, min, max, "BYSCORE", ...rest]),
  },
  zcount: {
    arity: 4,
    run: (ks, [, key = "", min, max]) =>
      [...(ks.typed(key, "zset")?.v.values() ?? [])].filter(inScoreRange(min, max)).length,
  },
  zremrangebyscore: {
    arity: 4,
    run: (ks, [, key = "", min, max]) => {
      const zset = ks.typed(key, "zset");
      const inRange = inScoreRange(min, max);
      let removed = 0;
      for (const [member, score] of zset?.v ?? []) if (inRange(score) && zset?.v.delete(member)) removed++;
      ks.dropIfEmpty(key);
      return removed;
    },
  },
};
