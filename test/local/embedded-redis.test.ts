import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../local/net";
import { type EmbeddedRedis, startEmbeddedRedis } from "../../local/redis/embedded/server";
import { stripUpstashFlags } from "../../local/redis/scripts";
import { type RedisServer, redisServerOnPath, startRedisServer } from "../../local/redis/server";
import { ADMIT_SCRIPT, REVOKE_SCRIPT } from "../../src/limits/scripts";
import { BOUNDED_PUSH } from "../../src/metering/dead-letter";

// The embedded Redis (`npm run dev` and `npm test` without redis-server) against the real one:
// the same commands, and sluice's own Lua scripts, must give the same replies. Without
// redis-server on the PATH the replies are checked against what redis-server 7 answers.

type Step = { args: (string | number)[]; expected?: unknown };

const NOW = 1_764_000_000_000;
const admit = (id: string, tokens: number, micros: number) => [
  "EVAL",
  ADMIT_SCRIPT,
  7,
  "rev:k",
  `rec:${id}`,
  "inflight:k",
  "tok:cur",
  "tok:prev",
  "bud:day",
  "brk:a",
  NOW,
  id,
  60_000,
  2,
  tokens,
  60_000,
  micros,
  90_000,
  1,
  1,
  1,
  1_000,
  5_000,
  NOW + 86_400_000,
];

const STEPS: Step[] = [
  { args: ["SET", "s", "1"], expected: "OK" },
  { args: ["INCRBY", "s", "41"], expected: 42 },
  { args: ["INCR", "missing-n"], expected: 1 },
  { args: ["INCRBYFLOAT", "s", "0.5"], expected: "42.5" },
  { args: ["INCR", "s"], expected: "ERR value is not an integer or out of range" },
  { args: ["SET", "px", "v", "PX", "60000", "NX"], expected: "OK" },
  { args: ["SET", "px", "w", "PX", "60000", "NX"], expected: null },
  { args: ["HSET", "h", "a", "1", "b", "2"], expected: 2 },
  { args: ["HMGET", "h", "a", "zz", "b"], expected: ["1", null, "2"] },
  { args: ["GET", "h"], expected: "WRONGTYPE Operation against a key holding the wrong kind of value" },
  { args: ["RPUSH", "l", "a", "b", "c", "d"], expected: 4 },
  { args: ["LTRIM", "l", "1", "-1"], expected: "OK" },
  { args: ["LRANGE", "l", "0", "-1"], expected: ["b", "c", "d"] },
  { args: ["LPOP", "l", "2"], expected: ["b", "c"] },
  { args: ["RPOP", "l", "5"], expected: ["d"] },
  { args: ["LPOP", "l", "2"], expected: null },
  { args: ["LPOP", "l"], expected: null },
  { args: ["ZADD", "z", "3", "c", "1", "a", "2", "b"], expected: 3 },
  { args: ["ZREMRANGEBYSCORE", "z", "-inf", "1"], expected: 1 },
  { args: ["ZRANGE", "z", "0", "-1", "WITHSCORES"], expected: ["b", "2", "c", "3"] },
  { args: ["ZADD", "z", "4", "d", "5", "e"], expected: 2 },
  { args: ["ZRANGE", "z", "0", "4", "BYSCORE", "LIMIT", "1", "2"], expected: ["c", "d"] },
  { args: ["ZRANGE", "z", "+inf", "(3", "BYSCORE", "REV"], expected: ["e", "d"] },
  {
    args: ["EVAL", "return {1, 2.9, -2.9, 'x', true, false, {3}, nil, 4}", 0],
    expected: [1, 2, -2, "x", 1, null, [3]],
  },
  { args: ["EVAL", "return redis.call('GET', KEYS[1])", 1, "s"], expected: "42.5" },
  {
    args: ["EVAL", "return redis.pcall('INCR', KEYS[1])", 1, "h"],
    expected: "WRONGTYPE Operation against a key holding the wrong kind of value",
  },
  { args: ["EVAL", "return string.format('%d', tonumber(ARGV[1]) + 5)", 0, NOW], expected: String(NOW + 5) },
  {
    args: ["EVAL", "return redis.call('PEXPIRE', KEYS[1], ARGV[1] * 2 + 1000)", 1, "s", "60000"],
    expected: 1,
  },
  { args: ["EVAL", "#!lua flags=no-writes\nreturn #ARGV", 0, "a", "b"], expected: 2 },
  {
    args: ["EVALSHA", "0000000000000000000000000000000000000000", 0],
    expected: "NOSCRIPT No matching script. Please use EVAL.",
  },
  // sluice's gate (its argument layout belongs to src/limits): reserve, again, a third past the
  // concurrency of 2, one past the token limit, revoke, then a revoked admission.
  { args: admit("r1", 100, 2_000) },
  { args: admit("r2", 100, 2_000) },
  { args: admit("r3", 100, 2_000) },
  { args: ["MGET", "tok:cur", "bud:day"] },
  { args: admit("r4", 900, 2_000) },
  { args: ["EVAL", REVOKE_SCRIPT, 1, "rev:k", NOW - 1, "0"], expected: NOW - 1 },
  { args: admit("r5", 1, 1) },
  { args: ["EVAL", BOUNDED_PUSH, 1, "spool", "2", "x", "y", "z"], expected: 2 },
  { args: ["LLEN", "spool"], expected: 2 },
  { args: ["NOSUCHCOMMAND"], expected: "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: " },
];

async function run(client: Redis, step: Step): Promise<unknown> {
  const [name, ...args] = step.args.map(String);
  return client.call(name as string, ...args).then(
    (value) => value,
    (error: Error) => error.message,
  );
}

describe("the embedded Redis answers like redis-server", () => {
  let embedded: EmbeddedRedis;
  let embeddedClient: Redis;
  let real: RedisServer | undefined;
  let realClient: Redis | undefined;

  beforeAll(async () => {
    embedded = await startEmbeddedRedis(await freePort());
    embeddedClient = new Redis(embedded.port, "127.0.0.1");
    if (redisServerOnPath() !== undefined) {
      real = await startRedisServer({ env: { ...process.env, SLUICE_REDIS: "redis-server" } });
      realClient = new Redis(real.port, "127.0.0.1");
    }
  });

  afterAll(async () => {
    embeddedClient?.disconnect();
    realClient?.disconnect();
    await embedded?.stop();
    await real?.stop();
  });

  it("gives the same replies to commands and to sluice's scripts", async () => {
    for (const step of STEPS) {
      const label =
        String(step.args[0]) +
        (step.args[0] === "EVAL" ? ` ${String(step.args[1]).trim().slice(0, 40)}` : "");
      const got = await run(embeddedClient, step);
      if (!realClient && step.expected === undefined) {
        // Scripts whose exact replies only redis-server can tell: at least they run.
        expect(typeof got === "string" && /^[A-Z]+ /.test(got), `${label}: ${String(got)}`).toBe(false);
        continue;
      }
      const want = realClient ? await run(realClient, step) : step.expected;
      if (typeof want === "string" && /^[A-Z]+ /.test(want) && typeof got === "string") {
        // Errors: the same code and message start (redis-server appends script names and line numbers).
        expect(got.split(" ").slice(0, 3), label).toEqual(want.split(" ").slice(0, 3));
      } else {
        expect(got, label).toEqual(want);
      }
      if (step.expected !== undefined && realClient) {
        // The expectations written above hold for redis-server itself too.
        if (typeof step.expected === "string" && /^[A-Z]+ /.test(step.expected)) continue;
        expect(want, `${label} (redis-server)`).toEqual(step.expected);
      }
    }
  });

  it("strips Upstash's shebang flag the way the bridge does", () => {
    expect(stripUpstashFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua\nreturn 1");
  });

  it("keeps MULTI/EXEC atomic and refuses a transaction with a bad command", async () => {
    expect(await embeddedClient.multi().set("t", "1").incr("t").exec()).toEqual([
      [null, "OK"],
      [null, 2],
    ]);
    await expect(embeddedClient.multi().set("t2", "1").call("GET").exec()).rejects.toThrow(/EXECABORT/);
    expect(await embeddedClient.get("t2")).toBeNull();
  });

  it("expires keys and forgets everything on a restart, like a crashed redis-server", async () => {
    await embeddedClient.set("short", "v", "PX", 30);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await embeddedClient.get("short")).toBeNull();
    await embeddedClient.set("kept", "v");
    await embedded.stop();
    await embedded.start();
    const fresh = new Redis(embedded.port, "127.0.0.1");
    expect(await fresh.get("kept")).toBeNull();
    fresh.disconnect();
  });
});
