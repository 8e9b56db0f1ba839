/**
 * `npm run serve:gateway`: the built bundle (dist/, from `npm run build`) on SLUICE_INSTANCES
 * workerd processes (default 2) behind HOST:PORT (default 127.0.0.1:8787). Every setting comes from
 * the environment (docs/self-hosting.md); values are handed to workerd through its environment only.
 */
import { ROOT } from "../worker";
import { gatewayBindings, startSelfHost } from "./gateway";

async function main(): Promise<void> {
  const instances = Number(process.env.SLUICE_INSTANCES ?? 2);
  if (!Number.isInteger(instances) || instances < 1 || instances > 64) {
    throw new Error("SLUICE_INSTANCES must be a whole number from 1 to 64");
  }
  const gateway = await startSelfHost({
    root: ROOT,
    distDir: process.env.SLUICE_DIST,
    bindings: gatewayBindings(process.env),
    instances,
    port: Number(process.env.PORT ?? 8787),
    host: process.env.HOST,
  });
  console.log(
    [
      `sluice: ${instances} workerd processes behind ${gateway.url} (V8 heap capped at 128 MB each; cron every minute)`,
      `instances: ${gateway.instances.map((w) => w.url).join(" ")}`,
    ].join("\n"),
  );
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    void gateway.stop().then(() => process.exit(code));
  };
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  for (const instance of gateway.instances) {
    void instance.exited.then((code) => {
      if (stopping) return;
      // One process down: stop the set, so the supervisor restarts it whole.
      console.error(`sluice: workerd ${instance.pid} exited (${code}); stopping.`);
      stop(1);
    });
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
