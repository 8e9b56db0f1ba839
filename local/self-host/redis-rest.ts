/**
 * `npm run serve:redis-rest`: Upstash's REST protocol in front of a real Redis, for a self-hosted
 * gateway's UPSTASH_REDIS_REST_URL. Settings from the environment:
 * REDIS_URL (redis://host:port, required), UPSTASH_REDIS_REST_TOKEN (the bearer token clients
 * must send, 24+ characters, required), PORT (default 8079), HOST (default 127.0.0.1).
 */
import { startRedisBridge } from "../redis/bridge";

async function main(): Promise<void> {
  const { REDIS_URL, UPSTASH_REDIS_REST_TOKEN: token } = process.env;
  if (!REDIS_URL) throw new Error("set REDIS_URL, e.g. redis://127.0.0.1:6379");
  if (!token || token.length < 24)
    throw new Error("set UPSTASH_REDIS_REST_TOKEN to a secret of 24+ characters");
  const host = process.env.HOST ?? "127.0.0.1";
  const bridge = await startRedisBridge({
    redisUrl: REDIS_URL,
    token,
    port: Number(process.env.PORT ?? 8079),
    host,
  });
  console.log(
    `sluice redis-rest: serving Upstash's REST protocol on http://${host}:${bridge.port} for ${new URL(REDIS_URL).host}`,
  );
  const stop = () => void bridge.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
