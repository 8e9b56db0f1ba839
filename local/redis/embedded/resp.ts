/** A command's reply before it is written as RESP2 (what redis-server sends to ioredis). */
export type Reply = null | number | bigint | string | { status: string } | { error: string } | Reply[];

/** A Redis error reply; command handlers throw it, the server writes it. */
export class RedisError extends Error {}

/** Encodes a reply as RESP2. Strings are bulk strings (UTF-8); numbers are integers. */
export function encodeReply(reply: Reply): string {
  if (reply === null) return "$-1\r\n";
  if (typeof reply === "number") return `:${Math.trunc(reply)}\r\n`;
  if (typeof reply === "bigint") return `:${reply}\r\n`;
  if (typeof reply === "string") return `$${Buffer.byteLength(reply)}\r\n${reply}\r\n`;
  if (Array.isArray(reply)) return `*${reply.length}\r\n${reply.map(encodeReply).join("")}`;
  if ("status" in reply) return `+${reply.status.replace(/[\r\n]/g, " ")}\r\n`;
  return `-${reply.error.replace(/[\r\n]/g, " ")}\r\n`;
}

/** Largest request the parser buffers (redis-server's default proto-max-bulk-len is 512 MB; ours is smaller). */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/**
 * Splits a client's byte stream into commands: RESP arrays of bulk strings, or inline commands
 * (`PING\r\n`, as redis-cli and health checks send). Returns a feeder; it throws on bad framing.
 * @example const feed = commandParser((args) => run(args)); socket.on("data", feed);
 */
export function commandParser(onCommand: (args: string[]) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (pending.length > MAX_PENDING_BYTES) throw new RedisError("ERR Protocol error: request too large");
    for (;;) {
      const parsed = parseOne(pending);
      if (parsed === undefined) return;
      pending = pending.subarray(parsed.used);
      if (parsed.args.length > 0) onCommand(parsed.args);
    }
  };
}

function lineEnd(buffer: Buffer, from: number): number {
  const at = buffer.indexOf("\r\n", from);
  return at;
}

/** One command from the front of `buffer`, or undefined when more bytes are needed. */
function parseOne(buffer: Buffer): { args: string[]; used: number } | undefined {
  if (buffer.length === 0) return undefined;
  if (buffer[0] !== 0x2a /* * */) {
    const end = buffer.indexOf("\n");
    if (end === -1) return undefined;
    const line = buffer.subarray(0, end).toString("utf8").replace(/\r$/, "");
    return { args: line.split(" ").filter((word) => word !== ""), used: end + 1 };
  }
  const headerEnd = lineEnd(buffer, 0);
  if (headerEnd === -1) return undefined;
  const count = Number(buffer.subarray(1, headerEnd).toString());
  if (!Number.isInteger(count) || count > 1_048_576)
    throw new RedisError("ERR Protocol error: invalid multibulk length");
  let at = headerEnd + 2;
  const args: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at >= buffer.length) return undefined;
    if (buffer[at] !== 0x24 /* $ */) throw new RedisError("ERR Protocol error: expected '$'");
    const end = lineEnd(buffer, at);
    if (end === -1) return undefined;
    const length = Number(buffer.subarray(at + 1, end).toString());
    if (!Number.isInteger(length) || length < 0)
      throw new RedisError("ERR Protocol error: invalid bulk length");
    const start = end + 2;
    if (buffer.length < start + length + 2) return undefined;
    args.push(buffer.subarray(start, start + length).toString("utf8"));
    at = start + length + 2;
  }
  return { args, used: at };
}
